"""Renyi DP of the Poisson-subsampled Gaussian from the PLLR's CGF, and its optimal
conversion to (epsilon, delta).

Pure functions of numbers: a ledger is a sequence of segments ``(q, mu, n)`` (sample rate,
mu = 1/sigma, number of steps). Everything reads the one object of DESIGN.md section 1,
the cumulant generating function K(t) = log E_P[e^{tL}] of the privacy-loss log-likelihood
ratio L = log dQ/dP, P = N(0, 1), Q = (1 - q) N(0, 1) + q N(mu, 1):

    D_alpha(Q || P) = K(alpha) / (alpha - 1)          (ordering "pq")
    D_alpha(P || Q) = K(1 - alpha) / (alpha - 1)      (ordering "qp")
    R(alpha) = sum_i n_i max(K_i(alpha), K_i(1 - alpha)) / (alpha - 1)      ("max")

(Mironov 2017, Def. 3 and Prop. 1 for composition; Mironov, Talwar & Zhang 2019 for the
sampled Gaussian). K comes from quadrature, exact up to quadrature at every real order,
fractional ones included: the trapezoidal rule on a table of nodes per step
(``core.pllr_cgf_nodes``: the integrand is analytic in a strip, so the rule converges
geometrically, Trefethen & Weideman 2014, Thm. 5.1; its two half-rules check it), built
once per step and reused by every order, so a new order costs one exp per node -- and
the adaptive kernel of :func:`ewaccount.pllr.cgf` wherever a table cannot answer. All
distinct steps of a ledger are evaluated in one kernel call per order. At integer
orders of the "pq" ordering the finite binomial sum of Mironov, Talwar & Zhang 2019
(section 3.3) is used instead; it is written as

    E_P[(dQ/dP)^alpha] - 1 = sum_{k=2}^{alpha} C(alpha, k) (1 - q)^(alpha - k) q^k
                                               (exp(k (k - 1) mu^2 / 2) - 1),

a sum of positive terms, so K = log1p(.) keeps full relative accuracy even when K ~ 1e-12.

Conversion to (epsilon, delta): Balle, Barthe, Gaboardi, Hsu & Sato 2020, Thm. 21 (the
same statement as Canonne, Kamath & Steinke 2020, Prop. 12; Asoodeh et al. 2021 eq. 20):

    epsilon(delta) = min_alpha  R(alpha) + log((alpha - 1)/alpha) - (log delta + log alpha)/(alpha - 1)
    log delta(eps) = min_alpha  (alpha - 1)(R(alpha) - eps + log(1 - 1/alpha)) - log alpha

(the delta form is the one dp_accounting's ``compute_delta`` implements, "Prop. 12 of
arXiv 2004.00010"; both are the same inequality solved for the other variable). Both are
also capped by the total-variation bound delta(eps) <= delta(0) = TV <= sqrt(1 - exp(-KL))
(Bretagnolle-Huber), with KL <= D_alpha for alpha > 1: when it is <= delta, epsilon = 0.

The minimum is taken over a grid of orders (default: dp_accounting 0.6.0's default orders,
1.1, 1.2, ..., 10.9, 11, ..., 63, 128, 256, 512, 1024) **exactly** -- a branch and bound
that evaluates the kernel only at orders whose lower bound could still win; R is
non-decreasing in alpha (Renyi divergences are, van Erven & Harremoes 2014, Thm. 3), so
the closed-form integer values bound every order above them -- and then refined by a
bounded Brent minimisation (no unguarded root finder) in alpha between the best grid
order's neighbours. Since every per-order value is exact, the result is never above
dp_accounting's or Opacus's for the same orders.

Rigour: a CGF from quadrature is accurate (1e-12 relative, checked against mpmath and
between the two kernels), not proven. For a certificate every K is inflated to K (1 + REL_MARGIN) + ABS_MARGIN per step
(1e-8 relative: ten thousand times the quadrature tolerance; it moves epsilon by about
1e-8 relative) -- ``rigorous=True``, the default, and what the accountants use.

Examples
--------
>>> round(epsilon([(0.01, 1.0, 1000)], 1e-5).value, 4)    # Opacus, dp_accounting: 2.1014
2.1013
"""
from __future__ import annotations

import bisect
import math
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Iterable, NamedTuple, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import erf, gammaln

from . import _validation as v
from ._kernels import core

#: dp_accounting 0.6.0's default orders (``DEFAULT_RDP_ORDERS``): 1.1 ... 10.9 by 0.1,
#: 11 ... 63, 128, 256, 512, 1024.
DEFAULT_ORDERS: tuple = tuple([round(1.0 + x / 10.0, 10) for x in range(1, 100)]
                              + [float(a) for a in range(11, 64)]
                              + [128.0, 256.0, 512.0, 1024.0])

#: Relative margin added to every kernel CGF value when ``rigorous=True``.
REL_MARGIN = 1e-8
#: Absolute margin per step added to every CGF value when ``rigorous=True``.
ABS_MARGIN = 1e-18

_KL_ORDER = 1.001      # D_alpha at this order bounds KL from above (alpha >= 1)
_XATOL = 1e-8          # refinement tolerance in alpha, relative: eps(delta) and delta(eps)
                       # then find the same optimum, delta(eps(delta)) <= delta to ~1e-12
_BATCH = 3             # orders evaluated per branch-and-bound round
_SKIP_GAIN = 1e-7      # skip continuous steps after the integer search below this gain
_CACHE_SIZE = 4096     # distinct (q, mu) whose per-order CGF values are kept, in all banks
_CACHE_BANKS = 256     # sets of distinct (q, mu) (ledgers) kept
_SPARSE_FROM = 16      # from this many undecided orders, anchor chords on a sparse set
_BINOMIAL_MAX = 2048   # integer orders up to this use the closed-form sum (alpha - 1 terms);
                       # larger ones the quadrature CGF, which any order costs the same
_SPARSE_ANCHORS = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 128.0,
                   256.0, 512.0, 1024.0, 2048.0)
_BOUND_TERMS = 1 << 17  # binomial terms (steps x terms) the grid's lower bounds may take
_NODE_TOP = 8.0        # node tables cover the orders t in [1 - top, top], top at least this
_NODE_TOP_MAX = 64.0   # and at most this (larger |t|: the adaptive kernel)


class OrderResult(NamedTuple):
    """A conversion's value and the order that attains it."""

    value: float   #: epsilon, or delta
    order: float   #: the optimal Renyi order alpha (nan when a shortcut decided)


# ---------------------------------------------------------------------------------------
# per-step CGF values


def _check_segment(q, mu, n) -> tuple[float, float, int]:
    q = v.sample_rate(q)
    mu = v.real("mu", mu, low=0.0, low_open=True)
    n = v.count("count", n)
    return q, mu, n


def _check_orders(orders) -> np.ndarray:
    a = np.asarray(orders, dtype=float).ravel()
    if a.size == 0:
        raise ValueError("orders must not be empty")
    if not np.all(np.isfinite(a)) or np.any(a <= 1.0):
        raise ValueError(f"orders must be finite and > 1, got {orders!r}")
    return a


#: log n! for n = 0 .. _BINOMIAL_MAX (the binomial coefficients of the closed form)
_LOG_FACTORIAL = gammaln(np.arange(_BINOMIAL_MAX + 1, dtype=float) + 1.0)
_LOG_FACTORIAL.setflags(write=False)


@lru_cache(maxsize=64)
def _binomial_layout(alphas: tuple) -> tuple:
    """Index arrays for the binomial sums of the integer orders ``alphas`` (each >= 2):
    terms k = 2 .. alpha of each, with log C(alpha, k) and k (k - 1) / 2."""
    sizes = np.array(alphas) - 1
    owner = np.repeat(np.arange(len(alphas)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    a = np.repeat(np.array(alphas), sizes)
    ki = np.arange(a.size) - starts[owner] + 2
    logc = _LOG_FACTORIAL[a] - _LOG_FACTORIAL[ki] - _LOG_FACTORIAL[a - ki]
    k = ki.astype(float)
    out = (k, (a - ki).astype(float), starts, owner, logc, 0.5 * k * (k - 1.0))
    for arr in out:
        arr.setflags(write=False)
    return out


def _pq_integer(q: np.ndarray, mu: np.ndarray, alphas: tuple) -> np.ndarray:
    """K(alpha) of every step (q_i, mu_i) at the integer orders ``alphas`` (each >= 2):
    the closed form of :func:`cgf_pq_integer`, an array (steps, orders)."""
    k, a_minus_k, starts, owner, logc, half_kk = _binomial_layout(alphas)
    gauss = q >= 1.0
    has_gauss = gauss.any()
    q1 = np.where(gauss, 0.5, q) if has_gauss else q    # rows q = 1: replaced below
    x = np.multiply.outer(mu * mu, half_kk)
    terms = np.log(-np.expm1(-x))                        # log(e^x - 1) - x
    terms += x
    terms += logc
    terms += np.multiply.outer(np.log1p(-q1), a_minus_k)
    terms += np.multiply.outer(np.log(q1), k)
    if len(alphas) == 1:   # log-sum-exp of one group: plain max and sum
        m = terms.max(axis=1, keepdims=True)
        terms -= m
        s = np.exp(terms, out=terms).sum(axis=1, keepdims=True)
    else:
        m = np.maximum.reduceat(terms, starts, axis=1)
        terms -= m[:, owner]
        s = np.add.reduceat(np.exp(terms, out=terms), starts, axis=1)
    out = np.logaddexp(0.0, m + np.log(s))
    if has_gauss:
        aa = np.array(alphas, dtype=float)
        out[gauss] = 0.5 * aa * (aa - 1.0) * (mu[gauss] ** 2)[:, None]
    return out


def cgf_pq_integer(q: float, mu: float, alphas) -> np.ndarray:
    """K(alpha) = log E_P[(dQ/dP)^alpha] at integer orders alpha >= 2, in closed form.

    Mironov, Talwar & Zhang 2019 (section 3.3), written as log1p of a sum of positive
    terms (module docstring), so it is exact to rounding, relative, at any size of K.

    >>> float(cgf_pq_integer(1.0, 0.5, [2])[0])    # q = 1: alpha (alpha - 1) mu^2 / 2
    0.25
    """
    al = tuple(int(a) for a in np.asarray(alphas, dtype=float).ravel())
    if any(a < 2 or a != b for a, b in zip(al, np.asarray(alphas, dtype=float).ravel())):
        raise ValueError(f"alphas must be integers >= 2, got {alphas!r}")
    return _pq_integer(np.array([float(q)]), np.array([float(mu)]), al)[0]


def _closed(a: float) -> bool:
    """Whether the "pq" CGF at order a comes from the closed form (an integer <= _BINOMIAL_MAX)."""
    return a == int(a) and 2.0 <= a <= _BINOMIAL_MAX


@lru_cache(maxsize=64)
def _grid_layout(alphas: tuple, budget: int) -> tuple:
    """How :meth:`RDPCurve.lower_rdp` bounds each order of a sorted grid. The integer
    orders in closed form: 2 .. floor(max fractional) + 2 (the fractional orders' chords
    need them), then the grid's own integers, in increasing order while their binomial
    sums take at most ``budget`` terms per step. Per order: ``exact`` (one of them),
    ``chord`` (fractional, between them) or neither (above them: the extended chord of
    the two largest); and floor(alpha)."""
    a = np.array(alphas)
    frac = a[(a != np.round(a)) & (a <= _BINOMIAL_MAX - 2)]
    top = int(np.floor(frac.max())) + 2 if frac.size else 2
    ints = list(range(2, top + 1))
    cost = sum(n - 1 for n in ints)
    for n in sorted({int(x) for x in a if _closed(x)} - set(ints)):
        if cost + n - 1 > budget:
            break
        ints.append(n)
        cost += n - 1
    exact = np.isin(a, ints)
    chord = ~exact & (a < top)
    m = np.where(chord, np.floor(a), 0).astype(int)
    for arr in (exact, chord, m):
        arr.setflags(write=False)
    return tuple(ints), exact, chord, m


class _Bank:
    """CGF values of a set of distinct steps (q_i, mu_i), vectorised over the steps: K(alpha)
    ("pq") and K(1 - alpha) ("qp") at every order asked so far, each an array over the
    steps. One kernel call per request: the closed form at integer "pq" orders, the
    trapezoidal rule on per-step node tables elsewhere (``core.pllr_cgf_nodes``; the
    adaptive kernel where a table cannot answer)."""

    __slots__ = ("q", "mu", "pq", "qp", "integer", "_nodes", "_lock")

    def __init__(self, q: np.ndarray, mu: np.ndarray) -> None:
        self.q, self.mu = q, mu
        self.pq: dict[float, np.ndarray] = {}
        self.qp: dict[float, np.ndarray] = {1.0: np.zeros(q.size)}   # K(0) = 0
        self.integer: dict[tuple, np.ndarray] = {}
        self._nodes: tuple | None = None    # (top, mech, table) of core.pllr_nodes
        # one request at a time: each fills the shared dicts and node tables
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return self.q.size

    def pq_integer(self, alphas: tuple) -> np.ndarray:
        """Closed-form K(alpha) at the integer orders ``alphas``, (steps, orders), cached."""
        with self._lock:
            return self._pq_integer(alphas)

    def _pq_integer(self, alphas: tuple) -> np.ndarray:
        k = self.integer.get(alphas)
        if k is None:
            k = self.integer[alphas] = _pq_integer(self.q, self.mu, alphas)
            k.setflags(write=False)
        return k

    def _tables(self, need: float) -> tuple:
        """Node tables covering the orders t in [1 - top, top], top >= need (grown by
        doubling, at most _NODE_TOP_MAX; beyond, the adaptive kernel answers)."""
        nodes = self._nodes
        if nodes is None or need > nodes[0]:
            old = nodes[0] if nodes is not None else 0.0
            top = min(_NODE_TOP_MAX, max(need, _NODE_TOP, 2.0 * old))
            nodes = self._nodes = (top, *core.pllr_nodes(self.q, self.mu, top))
        return nodes

    def _kernel(self, t: list) -> np.ndarray:
        """K(t_j) of every step, (steps, len(t)). Where no kernel can evaluate it (from
        |t| mu ~ 1e5 near q = 1, ~1e8 elsewhere), the Gaussian value t (t - 1) mu^2 / 2 of
        q = 1 instead, an upper bound in both orderings by data processing (Q_q is Q_1
        passed through the channel "keep with probability q, else draw from P", which
        leaves P unchanged), and +inf where that overflows: a valid, useless, bound."""
        ta = np.array(t, dtype=float)
        need = max((r for r in (max(x, 1.0 - x) for x in t) if r <= _NODE_TOP_MAX), default=0.0)
        _, mech, table = self._tables(need)
        out = np.empty((self.q.size, ta.size))
        core.pllr_cgf_nodes(mech, table, ta, out)
        bad = ~np.isfinite(out)
        if bad.any():
            with np.errstate(over="ignore"):
                gauss = 0.5 * ta * (ta - 1.0) * (self.mu * self.mu)[:, None]
            out[bad] = np.broadcast_to(gauss, out.shape)[bad]
        return out

    def _ensure(self, pq: Iterable[float] = (), qp: Iterable[float] = ()) -> None:
        ints, frac = [], []
        for a in dict.fromkeys(pq):
            if a not in self.pq:
                (ints if _closed(a) else frac).append(a)
        qp = [a for a in dict.fromkeys(qp) if a not in self.qp]
        if ints:
            self.pq.update(zip(ints, _pq_integer(self.q, self.mu, tuple(int(a) for a in ints)).T))
        if frac or qp:
            k = self._kernel(frac + [1.0 - a for a in qp]).T
            self.pq.update(zip(frac, k[:len(frac)]))
            self.qp.update(zip(qp, k[len(frac):]))

    def _qp_chord(self, keys: list, a: float) -> np.ndarray | None:
        """An upper bound on K(1 - a) of every step from the nearest known orders on either
        side: K(1 - alpha) is convex in alpha, so it lies below its chords (None if a is
        not bracketed)."""
        i = bisect.bisect_left(keys, a)
        if i == 0 or i == len(keys):
            return None
        lo, hi = keys[i - 1], keys[i]
        w = (a - lo) / (hi - lo)
        return (1.0 - w) * self.qp[lo] + w * self.qp[hi]   # K >= 0: no inf - inf

    def _settle(self, alphas: list, todo: list, pq: np.ndarray, out: np.ndarray,
                anchors: Sequence[float] = ()) -> list:
        """Evaluate K(1 - a) at ``anchors``; fill the columns ``out[:, j]`` (j in todo)
        where it, or a chord above it, decides max(K(a), K(1 - a)) for every step; return
        the columns still undecided."""
        if anchors:
            self._ensure(qp=anchors)
        keys = sorted(self.qp)
        late = []
        for j in todo:
            a = alphas[j]
            y = self.qp.get(a)
            if y is not None:
                out[:, j] = np.maximum(pq[:, j], y)
                continue
            c = self._qp_chord(keys, a)
            if c is not None and (c <= pq[:, j]).all():
                out[:, j] = pq[:, j]
            else:
                late.append(j)
        return late

    def values(self, alphas: list, ordering: str) -> np.ndarray:
        """K at ``alphas`` for the ordering ("max": the larger of the two per step and
        order), an array (steps, orders) (see ``_values``)."""
        with self._lock:
            return self._values(alphas, ordering)

    def _values(self, alphas: list, ordering: str) -> np.ndarray:
        """K at ``alphas`` for the ordering ("max": the larger of the two per step and
        order), an array (steps, orders).

        For "max", K(1 - alpha) is convex in alpha, so it lies below its chord between
        known values; where that chord is already below K(alpha) the max is K(alpha)
        and the kernel is not called for K(1 - alpha). Fractional orders with no bracket
        get their integer neighbours evaluated as anchors."""
        if ordering == "qp":
            self._ensure(qp=alphas)
            return np.array([self.qp[a] for a in alphas]).T
        self._ensure(pq=alphas)
        pq = np.array([self.pq[a] for a in alphas]).T
        if ordering == "pq":
            return pq
        out = np.empty_like(pq)
        todo = self._settle(alphas, list(range(len(alphas))), pq, out)   # what known values decide
        if len(todo) > _SPARSE_FROM:
            # many orders at once: anchor the chords on a sparse set first
            top = max(alphas[j] for j in todo)
            sparse = [a for a in _SPARSE_ANCHORS if a < top]
            sparse.append(next((a for a in _SPARSE_ANCHORS if a >= top), float(math.ceil(top))))
            todo = self._settle(alphas, todo, pq, out, sparse)
        if todo:
            anchors = []
            for j in todo:
                a = alphas[j]
                n = math.floor(a)
                anchors += [a] if a == n else [float(n), float(n + 1)]
            todo = self._settle(alphas, todo, pq, out, anchors)
        if todo:
            self._settle(alphas, todo, pq, out, [alphas[j] for j in todo])
        return out


class _Banks(OrderedDict):
    """LRU cache of :class:`_Bank` by their keys (sorted (q, mu) pairs): at most
    _CACHE_SIZE steps and _CACHE_BANKS banks in all; thread-safe."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._steps = 0

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._steps = 0

    def bank(self, keys: tuple) -> _Bank:
        with self._lock:
            b = super().get(keys)
            if b is not None:
                self.move_to_end(keys)
                return b
            b = self[keys] = _Bank(*(np.array(c, dtype=float) for c in zip(*keys)))
            self._steps += len(b)
            while len(self) > 1 and (len(self) > _CACHE_BANKS or self._steps > _CACHE_SIZE):
                self._steps -= len(self.popitem(last=False)[1])
            return b


_BANKS = _Banks()


def _margin(k: np.ndarray) -> np.ndarray:
    return k + REL_MARGIN * np.abs(k) + ABS_MARGIN


def step_cgf(q: float, mu: float, orders, ordering: str = "max", rigorous: bool = False) -> np.ndarray:
    """Per-step CGF values: K(alpha) ("pq"), K(1 - alpha) ("qp") or their max ("max").

    Parameters
    ----------
    q, mu : float
        Sample rate and mu = 1/sigma of one step.
    orders : array_like
        Renyi orders alpha > 1.
    ordering : {"max", "pq", "qp"}
    rigorous : bool
        Add the documented margin K (1 + REL_MARGIN) + ABS_MARGIN.
    """
    q, mu, _ = _check_segment(q, mu, 1)
    ordering = v.ordering(ordering)
    a = _check_orders(orders)
    k = _BANKS.bank(((q, mu),)).values(a.tolist(), ordering)[0]
    return _margin(k) if rigorous else k


def rdp(q: float, mu: float, orders, ordering: str = "max", rigorous: bool = False) -> np.ndarray:
    """Per-step Renyi DP R(alpha) = K / (alpha - 1) of the Poisson-subsampled Gaussian.

    With ``ordering="pq"`` this is D_alpha(Q || P), the quantity Opacus's and
    dp_accounting's ``compute_rdp`` return (Mironov, Talwar & Zhang 2019, their A_alpha);
    "max" (default) is the add/remove-adjacency value, max of both orderings.

    Examples
    --------
    >>> [round(float(x), 6) for x in rdp(0.01, 1.0, [2, 8.5])]
    [0.000172, 0.001089]
    """
    a = _check_orders(orders)
    return step_cgf(q, mu, a, ordering, rigorous) / (a - 1.0)


def rdp_ledger(segments: Iterable, orders, ordering: str = "max", rigorous: bool = False) -> np.ndarray:
    """R(alpha) of a composition: sum_i n_i R_i(alpha) (Mironov 2017, Prop. 1)."""
    return RDPCurve(segments, ordering, rigorous).rdp(_check_orders(orders))


# ---------------------------------------------------------------------------------------
# the composed curve


class RDPCurve:
    """R(alpha) = sum_i n_i max_o K_{i,o}(alpha) / (alpha - 1) of a ledger, exact where
    evaluated, with cheap lower bounds elsewhere.

    Parameters
    ----------
    segments : iterable of (q, mu, n)
        The ledger; n steps with sample rate q and mu = 1/sigma each.
    ordering : {"max", "pq", "qp"}
    rigorous : bool
        Inflate every CGF value by the documented margin (module docstring).
    """

    def __init__(self, segments: Iterable, ordering: str = "max", rigorous: bool = True) -> None:
        segs = tuple(_check_segment(*s) for s in segments)
        if not segs:
            raise ValueError("segments must not be empty")
        self.segments = segs
        self.ordering = v.ordering(ordering)
        self.rigorous = bool(rigorous)
        counts: dict[tuple[float, float], int] = {}
        for q, mu, n in segs:
            counts[(q, mu)] = counts.get((q, mu), 0) + n
        keys = tuple(sorted(counts))
        self._bank = _BANKS.bank(keys)
        self._n = np.array([float(counts[k]) for k in keys])   # steps per (q, mu)
        self._exact: dict[float, float] = {}

    def _total(self, k: np.ndarray) -> np.ndarray:
        """sum_i n_i k_i for every column of k (steps, orders), summed row by row: the same
        bits for a column whatever else is in k (``n @ k`` is not: BLAS blocks columns
        differently by their count, and concurrent queries batched orders differently)."""
        return (self._n[:, None] * k).sum(axis=0)

    def cgf(self, alphas: np.ndarray) -> np.ndarray:
        """sum_i n_i K_i(alpha) (max over the orderings per step), exact (+ margin)."""
        alphas = np.asarray(alphas, dtype=float)
        missing = [a for a in dict.fromkeys(alphas.tolist()) if a not in self._exact]
        if missing:
            k = self._bank.values(missing, self.ordering)
            self._exact.update(zip(missing, self._total(_margin(k) if self.rigorous else k).tolist()))
        return np.array([self._exact[a] for a in alphas.tolist()])

    def rdp(self, alphas: np.ndarray) -> np.ndarray:
        """R(alpha) of the composition at every alpha (exact, + margin if rigorous)."""
        alphas = np.asarray(alphas, dtype=float)
        return self.cgf(alphas) / (alphas - 1.0)

    def lower_rdp(self, alphas: np.ndarray) -> np.ndarray:
        """A lower bound on R at each order of the sorted grid ``alphas``, at no kernel
        cost: :meth:`_lower_pq` (not for "qp"), exact values already known as they are,
        and R is non-decreasing in alpha (a running maximum)."""
        known = np.zeros(alphas.size)
        if self.ordering != "qp":
            with np.errstate(invalid="ignore", over="ignore"):
                known = self._lower_pq(alphas)
        if self._exact:
            ex = np.array([self._exact.get(a, np.nan) for a in alphas.tolist()])
            have = ~np.isnan(ex)
            known[have] = ex[have] / (alphas[have] - 1.0)
        return np.maximum.accumulate(known)

    def _lower_pq(self, alphas: np.ndarray) -> np.ndarray:
        """K_pq(alpha)/(alpha - 1) <= R(alpha) bounded below from the closed form at the
        integers of :func:`_grid_layout` (at most _BOUND_TERMS binomial terms in all).
        K_pq is convex (a CGF) with K(0) = K(1) = 0, so between integers n < alpha < n + 1
        it lies above both extended chords, (n - 1, n) and (n + 1, n + 2), and beyond the
        largest two integers a < b above their extended chord."""
        ints, exact, chord, m = _grid_layout(tuple(alphas.tolist()), _BOUND_TERMS // len(self._bank))
        kfull = np.zeros(ints[-1] + 3)
        kfull[list(ints)] = self._total(self._bank.pq_integer(ints))
        x = alphas - m
        left = kfull[m] + (kfull[m] - kfull[m - 1]) * x
        right = kfull[m + 1] - (kfull[m + 2] - kfull[m + 1]) * (1.0 - x)
        a, b = (ints[-2], ints[-1]) if len(ints) > 1 else (1, ints[-1])
        beyond = np.where(alphas >= b, kfull[b] + (kfull[b] - kfull[a]) * ((alphas - b) / (b - a)), 0.0)
        k = np.where(exact, kfull[np.where(exact, alphas, 0).astype(int)],
                     np.where(chord, np.fmax(left, right), beyond))
        return np.fmax(k, 0.0) / (alphas - 1.0)   # nan (inf - inf): no bound

    def kl_upper(self) -> float:
        """An upper bound on min(KL(Q||P), KL(P||Q)) of the composition: D_alpha at
        alpha = 1.001 of each direction (KL <= D_alpha for alpha >= 1)."""
        pq, qp = (float(self._total(_margin(self._bank.values([_KL_ORDER], o)))[0]) for o in ("pq", "qp"))
        return min(pq, qp) / (_KL_ORDER - 1.0)

    def tv_lower(self) -> float:
        """A lower bound on the composition's total variation: the largest single step's,
        TV(P, Q) = q (2 Phi(mu/2) - 1) (data processing)."""
        return float(np.max(self._bank.q * erf(self._bank.mu / (2.0 * math.sqrt(2.0)))))


def minimise_over_orders(curve: RDPCurve, orders: np.ndarray, weight, offset,
                         refine: bool = True) -> OrderResult:
    """min over alpha of f(alpha) = weight(alpha) R(alpha) + offset(alpha), weight > 0.

    Exact over the sorted grid ``orders`` by branch and bound on the lower bounds of
    :meth:`RDPCurve.lower_rdp`; then (``refine``) a bounded Brent minimisation between
    the best grid order's neighbours. Returns the value and the order attaining it.
    """
    w, c = weight(orders), offset(orders)
    evaluated = np.zeros(orders.size, dtype=bool)
    exact = np.full(orders.size, np.inf)
    known = curve.lower_rdp(orders)
    lower = known
    best = np.inf
    while True:
        bound = w * lower + c
        cand = np.flatnonzero(~evaluated & (bound < best))
        if cand.size == 0:
            break
        pick = cand[np.argsort(bound[cand], kind="stable")[:_BATCH]]
        r = curve.rdp(orders[pick])
        exact[pick] = w[pick] * r + c[pick]
        evaluated[pick] = True
        best = float(np.min(exact))
        known = known.copy()
        known[pick] = np.maximum(known[pick], r)
        lower = np.maximum.accumulate(known)
    j = int(np.argmin(exact))
    value, order = float(exact[j]), float(orders[j])
    # earlier queries' off-grid optima are not consulted: an answer must not depend on
    # what this curve was asked before (nor on the order of concurrent queries)
    if refine:

        def f(a: float) -> float:
            if not a > 1.0:        # the refinement's lower end can round to 1: no bound there
                return math.inf
            arr = np.array([a])
            return float(weight(arr)[0] * curve.rdp(arr)[0] + offset(arr)[0])

        lo = float(orders[j - 1]) if j > 0 else 1.0 + 0.1 * (float(orders[0]) - 1.0)
        hi = float(orders[j + 1]) if j + 1 < orders.size else 2.0 * float(orders[j])
        x, fx = _refine(f, lo, float(orders[j]), float(exact[j]), hi)
        if fx < value:
            value, order = fx, x
    return OrderResult(value, order)


_GOLDEN = 0.3819660112501051


def _vertex(a: float, fa: float, b: float, fb: float, c: float, fc: float) -> float:
    """Abscissa of the parabola's vertex through three points (nan if degenerate)."""
    r = (b - a) * (fb - fc)
    s = (b - c) * (fb - fa)
    den = 2.0 * (r - s)
    return b - ((b - a) * r - (b - c) * s) / den if den != 0.0 else math.nan


def _shrink(a, fa, b, fb, c, fc, x, fx):
    """Update the bracket a < b < c (f(b) smallest) with the new point x."""
    if fx <= fb:
        if x > b:
            return b, fb, x, fx, c, fc
        return a, fa, x, fx, b, fb
    if x > b:
        return a, fa, b, fb, x, fx
    return x, fx, b, fb, c, fc


def _refine(f, a: float, b: float, fb: float, c: float, maxiter: int = 20) -> tuple[float, float]:
    """Minimise f on [a, c] from the best grid order b (f(b) = fb).

    Where the bracket spans integers (orders >= 11 of the default grid) a discrete
    search over integers comes first -- parabolic steps rounded to integers, a golden
    step when they stall -- because their "pq" CGF is a cheap closed form -- and it stops
    there when the parabola through the best integer and its neighbours predicts a gain
    below 1e-7 relative; then Brent's method (scipy, bracketed: it never leaves [a, c]) to
    a relative tolerance of _XATOL in alpha, at most ``maxiter`` steps. Bounded Brent when
    (a, b, c) is no bracket. Every value returned is an exact evaluation of f, so any answer
    is a valid bound; the search only decides how tight it is.
    """
    fa, fc = f(a), f(c)
    if not (fb <= fa and fb <= fc):
        res = minimize_scalar(f, bounds=(a, c), method="bounded",
                              options={"xatol": _XATOL * b, "maxiter": 40})
        fbest, xbest = min([(fa, a), (fb, b), (fc, c), (float(res.fun), float(res.x))])
        return xbest, fbest
    if a == round(a) and b == round(b) and c == round(c) and a >= 2.0:
        slow = 0  # parabolic steps in a row that kept > 70% of the bracket: then golden ones
        while c - a > 2.0:
            x = _vertex(a, fa, b, fb, c, fc)
            x = float(round(x)) if math.isfinite(x) else b
            if not (a < x < c) or x == b or slow >= 2:
                x = b + max(1.0, round(_GOLDEN * (c - b))) if c - b > b - a else \
                    b - max(1.0, round(_GOLDEN * (b - a)))
            width = c - a
            a, fa, b, fb, c, fc = _shrink(a, fa, b, fb, c, fc, x, f(x))
            slow = slow + 1 if c - a > 0.7 * width else 0
        # between integers the parabola through (b - 1, b, b + 1) predicts the gain left;
        # far out (alpha ~ 100s) f is flat and continuous steps would buy < 1e-7 relative
        curv = fa - 2.0 * fb + fc
        if curv > 0.0 and (fa - fc) * (fa - fc) / (8.0 * curv) <= _SKIP_GAIN * abs(fb):
            return b, fb
    try:
        res = minimize_scalar(f, bracket=(a, b, c), method="brent",
                              options={"xtol": _XATOL, "maxiter": maxiter})
    except ValueError:  # ties: (a, b, c) is no strict bracket
        res = minimize_scalar(f, bounds=(a, c), method="bounded",
                              options={"xatol": _XATOL * b, "maxiter": 40})
    if np.isfinite(res.fun) and res.fun < fb:
        return float(res.x), float(res.fun)
    return b, fb


def _eps_offset(log_delta: float):
    def offset(a: np.ndarray) -> np.ndarray:
        return np.log1p(-1.0 / a) - (log_delta + np.log(a)) / (a - 1.0)
    return offset


def _logdelta_offset(eps: float):
    def offset(a: np.ndarray) -> np.ndarray:
        return (a - 1.0) * (np.log1p(-1.0 / a) - eps) - np.log(a)
    return offset


def _ones(a: np.ndarray) -> np.ndarray:
    return np.ones_like(a)


def _minus_one(a: np.ndarray) -> np.ndarray:
    return a - 1.0


def _grid(orders) -> np.ndarray:
    return np.unique(_check_orders(DEFAULT_ORDERS if orders is None else orders))


def epsilon(segments, delta: float, orders=None, ordering: str = "max", rigorous: bool = True,
            refine: bool = True, curve: RDPCurve | None = None) -> OrderResult:
    """epsilon(delta) of a composition by the optimal RDP conversion.

    epsilon = min_alpha R(alpha) + log((alpha - 1)/alpha) - (log delta + log alpha)/(alpha - 1)
    (Balle et al. 2020, Thm. 21; Canonne, Kamath & Steinke 2020, Prop. 12), and 0 when the
    Bretagnolle-Huber bound sqrt(1 - exp(-KL)) <= delta. An upper bound ("upper") when
    ``rigorous``.

    Parameters
    ----------
    segments : iterable of (q, mu, n)
    delta : float in (0, 1)
    orders : sequence of float > 1, optional
        The grid (default :data:`DEFAULT_ORDERS`); refined continuously when ``refine``.
    ordering : {"max", "pq", "qp"}
    rigorous : bool
        Apply the documented CGF margin (default True).
    curve : RDPCurve, optional
        A curve to reuse (its cached values); ``segments`` is ignored then.

    Returns
    -------
    OrderResult
        (epsilon, optimal order); the order is nan when the KL shortcut gave 0.

    Examples
    --------
    >>> r = epsilon([(0.01, 1.0, 1000)], 1e-5)
    >>> round(r.value, 4), round(r.order, 2)
    (2.1013, 7.78)
    """
    d = v.delta(delta)
    curve = curve if curve is not None else RDPCurve(segments, ordering, rigorous)
    if curve.tv_lower() <= d and -math.expm1(-curve.kl_upper()) <= d * d:
        return OrderResult(0.0, math.nan)
    res = minimise_over_orders(curve, _grid(orders), _ones, _eps_offset(math.log(d)), refine)
    return OrderResult(max(0.0, res.value), res.order)


def delta(segments, epsilon: float, orders=None, ordering: str = "max", rigorous: bool = True,
          refine: bool = True, curve: RDPCurve | None = None) -> OrderResult:
    """delta(epsilon) of a composition by the optimal RDP conversion.

    log delta = min_alpha (alpha - 1)(R(alpha) - epsilon + log(1 - 1/alpha)) - log alpha
    (the inversion of :func:`epsilon`'s bound; dp_accounting's ``compute_delta`` family,
    "Prop. 12 of arXiv 2004.00010"), capped by 1 and by sqrt(1 - exp(-KL)).

    Returns
    -------
    OrderResult
        (delta, optimal order; nan when the KL bound or the cap at 1 decided).

    Examples
    --------
    >>> r = delta([(0.01, 1.0, 1000)], 2.101322139670792)
    >>> f"{r.value:.6e}"
    '1.000000e-05'
    """
    e = v.epsilon(epsilon)
    curve = curve if curve is not None else RDPCurve(segments, ordering, rigorous)
    res = minimise_over_orders(curve, _grid(orders), _minus_one, _logdelta_offset(e), refine)
    log_d, order = res.value, res.order
    if curve.tv_lower() < math.exp(min(log_d, 0.0)):
        log_tv = 0.5 * math.log(-math.expm1(-curve.kl_upper())) if curve.kl_upper() > 0 else -math.inf
        if log_tv < log_d:
            log_d, order = log_tv, math.nan
    if log_d >= 0.0:
        return OrderResult(1.0, math.nan)
    return OrderResult(math.exp(log_d), order)


# ---------------------------------------------------------------------------------------
# conversions of given per-order values (no kernel)


def _check_pairs(orders, rdp_values) -> tuple[np.ndarray, np.ndarray]:
    """(orders, R) as float arrays of one value per order, R >= 0."""
    a = _check_orders(orders)
    r = np.asarray(rdp_values, dtype=float).ravel()
    if r.shape != a.shape:
        raise ValueError(f"rdp_values must have one value per order ({a.size}), got {r.size}")
    if np.any(np.isnan(r)) or np.any(r < 0):
        raise ValueError("rdp_values must be >= 0")
    return a, r


def epsilon_from_rdp(orders: Sequence[float], rdp_values: Sequence[float], delta: float) -> OrderResult:
    """The Balle et al. 2020 Thm. 21 conversion over given (orders, R) pairs only.

    epsilon = min_i R_i + log((a_i - 1)/a_i) - (log delta + log a_i)/(a_i - 1), >= 0.
    """
    d = v.delta(delta)
    a, r = _check_pairs(orders, rdp_values)
    e = r + _eps_offset(math.log(d))(a)
    j = int(np.argmin(e))
    return OrderResult(max(0.0, float(e[j])), float(a[j]))


def delta_from_rdp(orders: Sequence[float], rdp_values: Sequence[float], epsilon: float) -> OrderResult:
    """The inverse conversion over given (orders, R) pairs: delta = min_i exp((a_i - 1)
    (R_i - epsilon + log(1 - 1/a_i)) - log a_i), capped at 1."""
    e = v.epsilon(epsilon)
    a, r = _check_pairs(orders, rdp_values)
    ld = (a - 1.0) * r + _logdelta_offset(e)(a)
    j = int(np.argmin(ld))
    return OrderResult(float(min(1.0, math.exp(min(ld[j], 0.0)))), float(a[j]))
