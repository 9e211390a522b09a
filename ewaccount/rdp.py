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
sampled Gaussian). K comes from the quadrature kernel (:func:`ewaccount.pllr.cgf`), which
is exact up to quadrature at every real order, fractional ones included. At integer
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

Rigour: a CGF from quadrature is accurate (1e-12 relative, checked against mpmath), not
proven. For a certificate every K is inflated to K (1 + REL_MARGIN) + ABS_MARGIN per step
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
from collections import OrderedDict
from functools import lru_cache
from typing import Iterable, NamedTuple, Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from . import _validation as v
from .pllr import cgf

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
_XATOL = 1e-5          # refinement tolerance in alpha, relative
_BATCH = 3             # orders evaluated per branch-and-bound round
_SKIP_GAIN = 1e-7      # skip continuous steps after the integer search below this gain
_CACHE_SIZE = 4096     # distinct (q, mu) whose per-order CGF values are kept
_SPARSE_FROM = 16      # from this many undecided orders, anchor chords on a sparse set
_BINOMIAL_MAX = 2048   # integer orders up to this use the closed-form sum (alpha - 1 terms);
                       # larger ones the quadrature CGF, which any order costs the same
_SPARSE_ANCHORS = (2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 128.0,
                   256.0, 512.0, 1024.0, 2048.0)


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


@lru_cache(maxsize=64)
def _binomial_layout(alphas: tuple) -> tuple:
    """Index arrays for the binomial sums of the integer orders ``alphas`` (each >= 2)."""
    k = np.concatenate([np.arange(2, a + 1, dtype=float) for a in alphas])
    a = np.concatenate([np.full(a - 1, float(a)) for a in alphas])
    sizes = np.array([a_ - 1 for a_ in alphas])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(alphas)), sizes)
    logc = gammaln(a + 1.0) - gammaln(k + 1.0) - gammaln(a - k + 1.0)
    half_kk = 0.5 * k * (k - 1.0)
    for arr in (k, a, starts, owner, logc, half_kk):
        arr.setflags(write=False)
    return k, a - k, starts, owner, logc, half_kk


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
    aa = np.array(al, dtype=float)
    if q >= 1.0:
        return 0.5 * aa * (aa - 1.0) * mu * mu
    k, a_minus_k, starts, owner, logc, half_kk = _binomial_layout(al)
    x = half_kk * (mu * mu)
    log_expm1 = x + np.log(-np.expm1(-x))
    terms = logc + a_minus_k * math.log1p(-q) + k * math.log(q) + log_expm1
    m = np.maximum.reduceat(terms, starts)
    s = np.add.reduceat(np.exp(terms - m[owner]), starts)
    return np.logaddexp(0.0, m + np.log(s))


@lru_cache(maxsize=64)
def _grid_layout(alphas: tuple) -> tuple:
    """For a sorted grid: the integer orders whose closed form the lower bounds need
    (2 .. floor(max fractional) + 2, and the grid's integers, all up to _BINOMIAL_MAX), a
    mask of the orders they bound (``near``), an is-integer mask, and floor(alpha) (0 for
    the orders beyond, which get the running maximum only)."""
    a = np.array(alphas)
    near = a <= _BINOMIAL_MAX - 2
    is_int = (a == np.round(a)) & (a >= 2.0) & near
    frac = a[~is_int & near]
    top = int(np.floor(frac.max())) + 2 if frac.size else 2
    ints = tuple(sorted(set(range(2, top + 1)) | set(int(x) for x in a[is_int])))
    m = np.where(near, np.floor(np.minimum(a, _BINOMIAL_MAX)), 0).astype(int)
    for arr in (near, is_int, m):
        arr.setflags(write=False)
    return ints, near, is_int, m


def _cgf_or_inf(q: float, mu: float, t: list) -> list:
    """K at every t by quadrature; +inf where the kernel fails (it overflows from |t| mu ~
    1e8): such an order then bounds nothing -- a valid, useless, upper bound."""
    try:
        return cgf(q, mu, np.array(t)).tolist()
    except (ArithmeticError, ValueError):  # QuadratureError; the twin raises math errors
        out = []
        for x in t:
            try:
                out.append(float(cgf(q, mu, np.array([x]))[0]))
            except (ArithmeticError, ValueError):
                out.append(math.inf)
        return out


class _StepCGF:
    """Per-(q, mu) cache of K(alpha) ("pq") and K(1 - alpha) ("qp") at the orders asked
    so far. Kernel calls are batched: one call per request."""

    __slots__ = ("q", "mu", "pq", "qp", "integer")

    def __init__(self, q: float, mu: float) -> None:
        self.q, self.mu = q, mu
        self.pq: dict[float, float] = {}
        self.qp: dict[float, float] = {1.0: 0.0}   # K(0) = 0
        self.integer: dict[tuple, np.ndarray] = {}

    def pq_integer(self, alphas: tuple) -> np.ndarray:
        """Closed-form K(alpha) at the integer orders ``alphas`` (cached per tuple)."""
        k = self.integer.get(alphas)
        if k is None:
            k = self.integer[alphas] = cgf_pq_integer(self.q, self.mu, np.array(alphas))
            k.setflags(write=False)
        return k

    def _ensure(self, pq: Iterable[float] = (), qp: Iterable[float] = ()) -> None:
        pq = [a for a in dict.fromkeys(pq) if a not in self.pq]
        qp = [a for a in dict.fromkeys(qp) if a not in self.qp]
        if not pq and not qp:
            return
        if self.q >= 1.0:  # the Gaussian pair is symmetric: K(1 - a) = K(a)
            for a in set(pq) | set(qp):
                self.pq[a] = self.qp[a] = 0.5 * a * (a - 1.0) * (self.mu * self.mu)
            return
        ints = [a for a in pq if a == int(a) and 2.0 <= a <= _BINOMIAL_MAX]
        frac = [a for a in pq if not (a == int(a) and 2.0 <= a <= _BINOMIAL_MAX)]
        if ints:
            self.pq.update(zip(ints, cgf_pq_integer(self.q, self.mu, np.array(ints)).tolist()))
        if frac or qp:
            k = _cgf_or_inf(self.q, self.mu, frac + [1.0 - a for a in qp])
            self.pq.update(zip(frac, k[:len(frac)]))
            self.qp.update(zip(qp, k[len(frac):]))

    def _qp_chord(self, a: float) -> float:
        """An upper bound on K(1 - a) from the nearest known values on either side:
        K(1 - alpha) is convex in alpha, so it lies below its chords (inf if a is not
        bracketed)."""
        keys = self._qp_keys()
        i = bisect.bisect_left(keys, a)
        if i == 0 or i == len(keys):
            return math.inf
        lo, hi = keys[i - 1], keys[i]
        ylo, yhi = self.qp[lo], self.qp[hi]
        return ylo + (yhi - ylo) * (a - lo) / (hi - lo)

    def _qp_keys(self) -> list:
        return sorted(self.qp)

    def _chords(self, alphas: list, todo: list, out: list, anchors: list) -> list:
        """Evaluate K(1 - a) at ``anchors`` (none: use what is known); fill ``out`` where
        it or a chord decides the max; return the indices still undecided."""
        self._ensure(qp=anchors)
        late = []
        for j in todo:
            a = alphas[j]
            y = self.qp.get(a)
            if y is not None:
                out[j] = max(self.pq[a], y)
            elif self._qp_chord(a) <= self.pq[a]:
                out[j] = self.pq[a]
            else:
                late.append(j)
        return late

    def values(self, alphas: list, ordering: str) -> np.ndarray:
        """K at ``alphas`` for the ordering ("max": the larger of the two per order).

        For "max", K(1 - alpha) is convex in alpha, so it lies below its chord between
        known values; where that chord is already below K(alpha) the max is K(alpha)
        and the kernel is not called for K(1 - alpha). Fractional orders with no bracket
        get their integer neighbours evaluated as anchors."""
        if ordering == "pq":
            self._ensure(pq=alphas)
            return np.array([self.pq[a] for a in alphas])
        if ordering == "qp":
            self._ensure(qp=alphas)
            return np.array([self.qp[a] for a in alphas])
        self._ensure(pq=alphas)
        out: list = [None] * len(alphas)
        todo = self._chords(alphas, list(range(len(alphas))), out, [])  # what known values decide
        if len(todo) > _SPARSE_FROM:
            # many orders at once: anchor the chords on a sparse set first
            top = max(alphas[j] for j in todo)
            sparse = [a for a in _SPARSE_ANCHORS if a < top]
            sparse.append(next((a for a in _SPARSE_ANCHORS if a >= top), float(math.ceil(top))))
            todo = self._chords(alphas, todo, out, sparse)
        if todo:
            anchors = []
            for j in todo:
                a = alphas[j]
                n = math.floor(a)
                anchors += [a] if a == n else [float(n), float(n + 1)]
            todo = self._chords(alphas, todo, out, anchors)
        if todo:
            self._ensure(qp=[alphas[j] for j in todo])
            for j in todo:
                out[j] = max(self.pq[alphas[j]], self.qp[alphas[j]])
        return np.array(out, dtype=float)


_STEP_CACHE: "OrderedDict[tuple[float, float], _StepCGF]" = OrderedDict()


def _step(q: float, mu: float) -> _StepCGF:
    key = (q, mu)
    s = _STEP_CACHE.get(key)
    if s is None:
        s = _STEP_CACHE[key] = _StepCGF(q, mu)
        if len(_STEP_CACHE) > _CACHE_SIZE:
            _STEP_CACHE.popitem(last=False)
    else:
        _STEP_CACHE.move_to_end(key)
    return s


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
    k = _step(q, mu).values(a.tolist(), ordering)
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
        self._exact: dict[float, float] = {}

    def cgf(self, alphas: np.ndarray) -> np.ndarray:
        """sum_i n_i K_i(alpha) (max over the orderings per step), exact (+ margin)."""
        alphas = np.asarray(alphas, dtype=float)
        missing = np.array([a for a in dict.fromkeys(alphas.tolist()) if a not in self._exact])
        if missing.size:
            tot = np.zeros(missing.size)
            al = missing.tolist()
            for q, mu, n in self.segments:
                k = _step(q, mu).values(al, self.ordering)
                if self.rigorous:
                    k = _margin(k)
                tot += n * k
            for a, x in zip(missing.tolist(), tot.tolist()):
                self._exact[a] = x
        return np.array([self._exact[a] for a in alphas.tolist()])

    def rdp(self, alphas: np.ndarray) -> np.ndarray:
        """R(alpha) of the composition at every alpha (exact, + margin if rigorous)."""
        alphas = np.asarray(alphas, dtype=float)
        return self.cgf(alphas) / (alphas - 1.0)

    def lower_rdp(self, alphas: np.ndarray) -> np.ndarray:
        """A lower bound on R at each order of the sorted grid ``alphas``, at no kernel
        cost. K_pq(alpha) <= K(alpha) is known in closed form at integers; K_pq is convex
        (a CGF) with K(0) = K(1) = 0, so between integers n < alpha < n + 1 it lies above
        both extended chords, (n - 1, n) and (n + 1, n + 2). Exact values already known
        are used as they are, and R is non-decreasing in alpha (a running maximum; the
        only bound used above _BINOMIAL_MAX)."""
        known = np.zeros(alphas.size)
        if self.ordering != "qp":
            ints, near, is_int, m = _grid_layout(tuple(alphas.tolist()))
            tot = np.zeros(len(ints))
            for q, mu, n in self.segments:
                tot += n * _step(q, mu).pq_integer(ints)
            kfull = np.zeros(ints[-1] + 3)
            kfull[list(ints)] = tot
            x = alphas - m
            left = kfull[m] + (kfull[m] - kfull[m - 1]) * x
            right = kfull[m + 1] - (kfull[m + 2] - kfull[m + 1]) * (1.0 - x)
            k = np.where(is_int, kfull[m], np.maximum(np.maximum(left, right), 0.0) * near)
            known = k / (alphas - 1.0)
        if self._exact:
            ex = np.array([self._exact.get(a, np.nan) for a in alphas.tolist()])
            have = ~np.isnan(ex)
            known[have] = ex[have] / (alphas[have] - 1.0)
        return np.maximum.accumulate(known)

    def evaluated_orders(self) -> np.ndarray:
        """The orders at which the exact R is already known (no kernel cost)."""
        return np.array(sorted(self._exact), dtype=float)

    def kl_upper(self) -> float:
        """An upper bound on min(KL(Q||P), KL(P||Q)) of the composition: D_alpha at
        alpha = 1.001 of each direction (KL <= D_alpha for alpha >= 1)."""
        pq_tot = qp_tot = 0.0
        for q, mu, n in self.segments:
            st = _step(q, mu)
            pq_tot += n * float(_margin(st.values([_KL_ORDER], "pq"))[0])
            qp_tot += n * float(_margin(st.values([_KL_ORDER], "qp"))[0])
        return min(pq_tot, qp_tot) / (_KL_ORDER - 1.0)

    def tv_lower(self) -> float:
        """A lower bound on the composition's total variation: the largest single step's,
        TV(P, Q) = q (2 Phi(mu/2) - 1) (data processing)."""
        return max(q * math.erf(mu / (2.0 * math.sqrt(2.0))) for q, mu, _ in self.segments)


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
    # off-grid orders this curve already knows exactly (e.g. an earlier query's optimum)
    extra = np.setdiff1d(curve.evaluated_orders(), orders)
    if extra.size:
        fx = weight(extra) * curve.rdp(extra) + offset(extra)
        i = int(np.argmin(fx))
        if fx[i] < value:
            value, order = float(fx[i]), float(extra[i])
    if refine:

        def f(a: float) -> float:
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


def _refine(f, a: float, b: float, fb: float, c: float, maxiter: int = 10) -> tuple[float, float]:
    """Minimise f on [a, c] from the best grid order b (f(b) = fb).

    Where the bracket spans integers (orders >= 11 of the default grid) a discrete
    search over integers comes first -- parabolic steps rounded to integers, a golden
    step when they stall -- because their "pq" CGF is a cheap closed form -- and it stops
    there when the parabola through the best integer and its neighbours predicts a gain
    below 1e-7 relative; then Brent's method (scipy, bracketed: it never leaves [a, c]) to
    a relative tolerance of 1e-5 in alpha, at most ``maxiter`` steps. Bounded Brent when (a, b, c) is no bracket. Every
    value returned is an exact evaluation of f, so any answer is a valid bound; the search
    only decides how tight it is.
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
