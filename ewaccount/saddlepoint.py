"""Saddle-point (tilted) approximation of the privacy profile: an estimate that stays
accurate in the tails, where the plain Edgeworth expansion fails.

For a ledger with CGF K(t) = sum_i n_i K_i(t) of the composed PLLR S under P (so S under Q
has CGF K(t + 1)), the privacy profile of the ordered pair is

    delta(eps) = P_Q(S > eps) - e^eps P_P(S > eps).

Both tails are evaluated by the second-order Lugannani-Rice formula (Lugannani & Rice
1980; Daniels 1987, eq. 4.8) at the same saddle point t, K'(t) = eps:

    P(S > x) ~ Phi-bar(w) + phi(w) [1/u - 1/w + (l4/8 - 5 l3^2/24)/u - l3/(2u^2) - 1/u^3 + 1/w^3],
    w = sgn(t) sqrt(2(t x - K(t))),  u = t sqrt(K''(t)),  l_j = K^(j)(t) / K''(t)^(j/2),

with saddle t for P and t - 1 for Q (K_Q(t - 1) = K(t)). Because e^eps phi(w_P) = phi(w_Q)
exactly, the difference is assembled without cancellation of exponentials:

    delta = Phi-bar(w_Q) + phi(w_Q) (D_Q - R(w_P) - D_P),   R = Phi-bar / phi (Mills ratio),

D the bracket minus R. Parametrising by the tilt t makes eps(t) = K'(t) exact, so eps(delta)
is a bracketed root in t. The ordering "qp" is the same construction with K(1 - t).
This is the saddle-point accountant's approximation (Alghamdi et al. 2023, "The
Saddle-Point Method in Differential Privacy", ICML) in Lugannani-Rice form: an estimate,
not a bound, accurate to O(1/T) relative where the tilted sum is close to normal. Where it
is not (|lambda3| or |lambda4| of the tilted sum > REFINE_LAMBDA: small q and delta, a
Poisson number of large losses) the value is taken from the exact integral along the same
saddle point instead (:mod:`ewaccount.inversion`), with the formula's root as its start.
Both stay estimates, and are poor when the sum is nearly lattice (T q small), where the
accountant says so.
"""
from __future__ import annotations

import math
import threading
from typing import Callable, NamedTuple

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr

from ._epsgrid import on_eps_grid
from ._kernels import core
from .inversion import ComplexCGF, TiltedInversion, best_line
from .pllr import QuadratureError, complex_cgf, tilted_moments

#: expected number of times an example is sampled (sum of n_i q_i) below which the PLLR
#: sum is nearly lattice and the saddle point is flagged (DESIGN.md section 6).
NEAR_LATTICE = 5.0
_NOISE = 1e-13         # the formula's terms' relative rounding error (a total below it is noise)
U_MIN = 0.05          # |u| below this: interpolate across the removable singularity
REFINE_LAMBDA = 0.25   # |lambda3| or |lambda4| of the tilted sum above this: numerical inversion
_C_BRIDGE = 1.5        # the Bromwich line for saddle points inside the bridged poles
_U_STRICT = 4.0 * U_MIN  # strict queries take the integral this close to a pole
_UNKNOWN = object()


def _put(table: dict, key, value, cap: int) -> None:
    """A small memo: emptied when full (queries cluster; refilling is cheap)."""
    if len(table) >= cap:
        table.clear()
    table[key] = value


def _key(t: float, force: bool) -> tuple[float, bool]:
    """Inversion tables are kept per saddle point, and forced ones left of _C_BRIDGE per
    line (they all lie on Re z = _C_BRIDGE: one table, one consistent delta(eps))."""
    return (_C_BRIDGE, True) if force and t < _C_BRIDGE else (t, force)


_RELINE = 3            # integrals re-taken on the line through the answer's saddle point
_RELINE_TOL = 0.25     # ... when it lies further than this (relative) from the table's line,
_RELINE_SLACK = 2.0    # or the table was set for a log delta more than this above the target
_NODE_LEVELS = (8.0, 16.0, 32.0, 64.0)   # node tables cover the tilts t in [1 - top, top]
_REFINE = (1, 2, 4, 8)  # finer lattices for the complex CGF at large u
_T_MAX = 2.0 ** 16     # tilts beyond this: delta is below the double range (see tilt())
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class Derivatives(NamedTuple):
    """K and its first four derivatives at t."""

    K: float
    K1: float
    K2: float
    K3: float
    K4: float


def _level(t: float) -> float | None:
    """The smallest level of _NODE_LEVELS whose tables cover the tilt t (None beyond)."""
    reach = max(t, 1.0 - t)
    return next((level for level in _NODE_LEVELS if level >= reach), None)


class LedgerCGF:
    """t -> derivatives of K(t) = sum n_i K_i(t) for a ledger of ((q, mu), n): per step the
    tilted moments [K, mean, c2, c3, c4] (K^(4) = c4 - 3 c2^2), added over the steps.

    All distinct steps go through one kernel call per t: the trapezoidal rule on per-step
    node tables (``core.pllr_moments_nodes``; the adaptive kernel where a table cannot
    answer). The table is the one of the smallest level in _NODE_LEVELS that covers t, so a
    value depends on t alone, never on what was asked before; beyond the largest level, the
    adaptive kernel for every step. Values are remembered per t (queries revisit tilts).
    """

    def __init__(self, ledger) -> None:
        ledger = list(ledger)
        if not ledger:
            raise ValueError("ledger must not be empty")
        self._q = np.array([float(q) for (q, _), _ in ledger])
        self._mu = np.array([float(mu) for (_, mu), _ in ledger])
        self._n = np.array([float(n) for _, n in ledger])
        self._tables: dict[tuple[float, int], tuple[np.ndarray, np.ndarray]] = {}
        self._memo: dict[float, Derivatives] = {}
        self._lock = threading.Lock()

    def __call__(self, t: float) -> Derivatives:
        t = float(t)
        d = self._memo.get(t)
        if d is None:
            d = self._evaluate(t)
            _put(self._memo, t, d, 1024)
        return d

    def _table(self, top: float, refine: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The node tables of the level ``top``, their lattice ``refine`` times finer."""
        with self._lock:
            table = self._tables.get((top, refine))
            if table is None:
                table = self._tables[(top, refine)] = core.pllr_nodes(self._q, self._mu, top, 1.0 / refine)
            return table

    def _evaluate(self, t: float) -> Derivatives:
        top = _level(t)
        out = np.empty((self._q.size, 5))
        if top is not None:
            core.pllr_moments_nodes(*self._table(top), t, out)
        else:
            for i, (q, mu) in enumerate(zip(self._q.tolist(), self._mu.tolist())):
                m = tilted_moments(q, mu, t)
                out[i] = m.K, m.mean, m.c2, m.c3, m.c4
        if self._q.size == 1:   # the common ledger: spare numpy's overhead (same arithmetic)
            n = float(self._n[0])
            K, mean, c2, c3, c4 = out[0].tolist()
            total = [n * K, n * mean, n * c2, n * c3, n * (c4 - 3.0 * (c2 * c2))]
        else:
            out[:, 4] -= 3.0 * out[:, 2] ** 2
            total = (self._n[:, None] * out).sum(axis=0).tolist()
        if not all(map(math.isfinite, total)):   # a step's inf or nan reaches the total
            raise QuadratureError(f"PLLR moments not finite at t={t!r}")
        return Derivatives(*total)

    def complex(self, c: float, u0: float, h: float, n_u: int) -> tuple[np.ndarray, int]:
        """(K(c + iu) on the grid u = u0 + k h, k < n_u; work: nodes times grid points), all
        steps in one kernel call on the node table covering c (``core.pllr_ccgf_nodes``; a
        value depends on (c, u) alone); steps a table cannot answer (e^{iuL} too fast for
        its lattice at large u, or a check fails) by Gauss-Legendre panels
        (``pllr.complex_cgf``). Counts are integers, so the branch of each log is immaterial
        to exp(K)."""
        top = _level(c)
        rows = np.empty((self._q.size, 2 * n_u))
        nodes = np.full(self._q.size, -1, dtype=np.int64)
        if top is not None:
            # a lattice fine enough for every step that its half-rules (step 2h, the kernel's
            # check) resolve e^{iuL} too: u mu <= 2 pi / (2 h) - 3 max(1, mu) (L' < mu)
            step = self._table(top)[0][:, 2]
            u_top = u0 + (n_u - 1) * h
            need = float(np.max((u_top * self._mu + 3.0 * np.maximum(self._mu, 1.0)) * step)) / math.pi
            refine = next((r for r in _REFINE if r >= need), _REFINE[-1])
            core.pllr_ccgf_nodes(*self._table(top, refine), float(c), float(u0), float(h), int(n_u), rows, nodes)
        k = rows.view(complex)
        work = int(nodes[nodes > 0].sum()) * n_u
        for i in np.flatnonzero(nodes < 0).tolist():
            k[i], w = complex_cgf(float(self._q[i]), float(self._mu[i]), c, u0, h, n_u)
            work += w
        return (self._n[:, None] * k).sum(axis=0), work


def ledger_cgf(ledger) -> LedgerCGF:
    """t -> derivatives of K(t) = sum n_i K_i(t) for a ledger of ((q, mu), n)."""
    return LedgerCGF(ledger)


def ledger_complex_cgf(ledger) -> ComplexCGF:
    """(c, u0, h, n) -> (K(c + iu) = sum n_i K_i(c + iu) on the grid u = u0 + k h, work) for
    a ledger of ((q, mu), n), or for the ledger of a :class:`LedgerCGF` (sharing its node
    tables): :meth:`LedgerCGF.complex`."""
    return (ledger if isinstance(ledger, LedgerCGF) else LedgerCGF(ledger)).complex


def reflected(cgf: Callable[[float], Derivatives]) -> Callable[[float], Derivatives]:
    """The CGF of the swapped pair: K~(t) = K(1 - t) (odd derivatives change sign)."""
    def cgf_qp(t: float) -> Derivatives:
        d = cgf(1.0 - t)
        return Derivatives(d.K, -d.K1, d.K2, -d.K3, d.K4)
    return cgf_qp


def reflected_complex(ccgf: ComplexCGF) -> ComplexCGF:
    """K~(c + iu) = K(1 - c - iu) = conj K(1 - c + iu) (K is real on the real axis)."""
    def ccgf_qp(c: float, u0: float, h: float, n: int) -> tuple[np.ndarray, int]:
        k, work = ccgf(1.0 - c, u0, h, n)
        return np.conj(k), work
    return ccgf_qp


def _mills(w: float) -> float:
    """R(w) = Phi-bar(w) / phi(w), in log space."""
    return math.exp(float(log_ndtr(-w)) + 0.5 * w * w + _LOG_SQRT_2PI)


def _correction(t: float, x: float, d: Derivatives) -> tuple[float, float]:
    """(w, D) of the second-order Lugannani-Rice formula at saddle t:
    P(S > x) = Phi-bar(w) + phi(w) D."""
    w2 = 2.0 * (t * x - d.K)
    w = math.copysign(math.sqrt(max(w2, 0.0)), t)
    s = math.sqrt(d.K2)
    u = t * s
    l3, l4 = d.K3 / s ** 3, d.K4 / s ** 4
    D = 1.0 / u - 1.0 / w + (l4 / 8.0 - 5.0 * l3 * l3 / 24.0) / u - l3 / (2.0 * u * u) - u ** -3 + w ** -3
    return w, D


def _log_delta_at(t: float, d: Derivatives) -> float:
    """log delta at eps = K'(t), or -inf where the approximation is non-positive, or is a
    difference below the rounding error of its terms (far from normal, the bracket's terms
    grow large and cancel: q = 1e-4, sigma = 0.74, T = 80000 gave log delta = -28.5 or -29.4
    for tilts 8e-15 apart, and a root of the formula that was only that noise)."""
    x = d.K1
    wq, dq = _correction(t - 1.0, x, d)
    wp, dp = _correction(t, x, d)
    mp = _mills(wp)
    bracket = dq - mp - dp
    noise = _NOISE * (abs(dq) + mp + abs(dp))
    if wq > 0.0:
        mq = _mills(wq)
        total = mq + bracket
        ok = total > noise + _NOISE * mq
        return -0.5 * wq * wq - _LOG_SQRT_2PI + math.log(total) if ok else -math.inf
    phi, tail = math.exp(-0.5 * wq * wq - _LOG_SQRT_2PI), math.exp(float(log_ndtr(-wq)))
    value = tail + phi * bracket
    return math.log(value) if value > phi * noise + _NOISE * tail else -math.inf


def _chernoff_log_delta(t: float, d: Derivatives) -> float:
    """Chernoff's estimate of log delta at eps = K'(t): the exponent K - (t - 1) K' less
    the usual prefactor log(|t (t - 1)| sd)."""
    return d.K - (t - 1.0) * d.K1 - math.log(abs(t * (t - 1.0)) * math.sqrt(d.K2) + 1e-300)


class SaddlePointProfile:
    """delta(eps) and eps(delta) of one ordered pair from its CGF t -> Derivatives.

    ``eps_max`` is the top of the support of the PLLR sum (delta = 0 from there on): +inf
    for "pq", sum n_i log(1/(1 - q_i)) for "qp", whose per-step PLLR -L <= -log(1 - q).
    """

    def __init__(self, cgf: Callable[[float], Derivatives], eps_max: float = math.inf,
                 ccgf: ComplexCGF | None = None) -> None:
        self.cgf = cgf
        self.eps_max = eps_max
        self.ccgf = ccgf
        self._inversions: dict[tuple[float, bool], TiltedInversion | None] = {}
        self._tilts: dict[float, float] = {}

    def inversion(self, t: float, force: bool = False, cap: float = math.inf) -> TiltedInversion | None:
        """The tabulated Bromwich integral for delta near eps = K'(t) (on the line through
        the saddle point t or a little to its right, ``best_line``; for t within the
        bridged poles, on Re z = max(t, _C_BRIDGE)), where the tilted sum is too
        far from normal for the Lugannani-Rice formula (|lambda3| or |lambda4| >
        REFINE_LAMBDA, or ``force``) and a complex CGF is at hand; None where it is not
        needed or cannot be tabulated (the caller keeps the Lugannani-Rice value). ``cap``:
        a log delta the table must also serve (the target of an eps query), if lower than
        the hint the formula gives."""
        if self.ccgf is None:
            return None
        key = _key(t, force)
        known = self._inversions.get(key, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        d = self.cgf(t)
        inv = None
        if force or max(abs(d.K3 / d.K2 ** 1.5), abs(d.K4 / d.K2 ** 2)) > REFINE_LAMBDA:
            # log delta for the aliasing margin: the formula's, or Chernoff's bound
            # K - (t - 1) K' less the usual prefactor and a margin, if that is lower; the
            # formula's -inf (non-positive: no information) is not a hint (q = 1e-4,
            # sigma = 0.6875, T = 50000, delta = 1e-3 once fell back to Edgeworth, 0.7% off)
            chernoff = _chernoff_log_delta(t, d) - 10.0
            lr = _log_delta_at(t, d)
            hint = min(lr if lr > -math.inf else chernoff, chernoff, cap)
            c = _C_BRIDGE if t < _C_BRIDGE else best_line(self.cgf, t, hint)
            inv = TiltedInversion(self.ccgf, self.cgf, c, d.K1, hint)
        inv = inv if inv is not None and inv.ok else None
        self._remember(key, inv)   # a local answer: another thread may clear the table
        return inv

    def _remember(self, key: tuple[float, bool], inv: TiltedInversion | None) -> None:
        _put(self._inversions, key, inv, 16)

    def bridged(self, t: float, u_min: float = U_MIN) -> bool:
        """Whether t lies within u_min / sd of a removable pole (0 or 1): within U_MIN
        log_delta_at_tilt interpolates instead of evaluating the formula."""
        h = u_min / math.sqrt(self.cgf(t).K2)
        return abs(t) < h or abs(t - 1.0) < h

    def _integral_for(self, t: float, strict: bool) -> tuple[TiltedInversion | None, bool]:
        """(inversion, forced) for the saddle point t. A t within U_MIN / sd of a pole, where
        the formula is only interpolated (0.1% off for a normal sum), is read from the
        integral on the line Re z = max(t, _C_BRIDGE) instead, one table for all such t (any
        line Re z > 1 gives delta), where it can be tabulated. ``strict`` (sums whose tilted
        sd is so small that the bridges are wide): the band is _U_STRICT / sd (the formula's
        1/u terms make it wander: 6e-4 at 0.07), and a ValueError if no table can be made."""
        if self.bridged(t, _U_STRICT if strict else U_MIN):
            inv = self.inversion(t, force=True)
            if inv is not None:
                return inv, True
            if strict:
                raise ValueError("the saddle point lies within the bridged poles of the formula")
        return self.inversion(t), False

    def log_delta_at_tilt(self, t: float) -> float:
        """log delta at eps = K'(t); across the removable singularities of the formula
        (|u| small for P or Q) it interpolates linearly in t."""
        d = self.cgf(t)
        s = math.sqrt(d.K2)
        h = U_MIN / s
        for pole in (0.0, 1.0):
            if abs(t - pole) < h:
                a, b = pole - h, pole + h
                fa, fb = _log_delta_at(a, self.cgf(a)), _log_delta_at(b, self.cgf(b))
                return fa + (fb - fa) * (t - a) / (b - a)
        return _log_delta_at(t, d)

    def tilt(self, eps: float) -> float:
        """The saddle point t with K'(t) = eps (remembered: queries ask for the same eps
        several times, for the answer and for its warnings)."""
        t = self._tilts.get(eps)
        if t is None:
            t = self._solve_tilt(eps)
            _put(self._tilts, eps, t, 256)
        return t

    def _solve_tilt(self, eps: float) -> float:
        """The root of K'(t) = eps (K'' > 0, K' increasing): a bracket widened until it holds
        the root, then Brent's method (Newton alone crawls where K' saturates, as for "qp"
        near the top of the support: K'' -> 0)."""
        if eps >= self.eps_max:
            raise ValueError(f"eps = {eps!r} is above the support of the PLLR sum")
        lo, hi = 0.0, 1.0
        while self.cgf(hi).K1 < eps:
            lo, hi = hi, 2.0 * hi
            if hi > _T_MAX:
                raise ValueError(f"eps = {eps!r} is beyond the tilts the kernels resolve")
        while self.cgf(lo).K1 > eps:
            lo, hi = lo - (hi - lo), lo
        return brentq(lambda t: self.cgf(t).K1 - eps, lo, hi, xtol=1e-14 * max(1.0, abs(lo), abs(hi)),
                      rtol=1e-15)

    def delta(self, eps: float, strict: bool = False) -> float:
        """delta(eps) (clipped to [0, 1]); 0 at and above the top of the support. ``strict``:
        raise ValueError rather than read the bridge across the formula's poles (for sums
        whose tilted sd is so small that the bridge is wide)."""
        if eps >= self.eps_max:
            return 0.0
        eps = on_eps_grid(eps)
        try:
            t = self.tilt(eps)
        except ValueError:  # eps within rounding of the support's top: delta underflows
            return 0.0
        inv, _ = self._integral_for(t, strict)
        ld = inv.log_delta(eps) if inv is not None else self.log_delta_at_tilt(t)
        return min(max(math.exp(ld), 0.0), 1.0) if ld > -math.inf else 0.0

    def epsilon(self, delta: float, strict: bool = False) -> float:
        """eps(delta): the root in t of log delta(K'(t)) = log delta, then eps = K'(t),
        refined by the numerical inversion where the tilted sum is far from normal.
        ``strict`` as for :meth:`delta`."""
        target = math.log(delta)
        t0 = self.tilt(0.0)
        f0 = self.log_delta_at_tilt(t0)
        if math.isfinite(f0) and f0 <= target:
            inv, _ = self._integral_for(t0, strict)
            if inv is None or inv.log_delta(0.0) <= target:
                return 0.0
            return self._solve(inv, target, 0.0, t0, forced=True, must=strict)
        # bracket: f(lo) > target, f(hi) <= target, both where the formula is valid (finite;
        # far from normal it can go negative, at small tilts only)
        lo, hi = t0, max(2.0, 2.0 * t0)
        while True:
            f_hi = self.log_delta_at_tilt(hi)
            if -math.inf < f_hi <= target:
                break
            if f_hi == -math.inf and _chernoff_log_delta(hi, self.cgf(hi)) <= target:
                # the formula is invalid here but Chernoff's estimate is below the target:
                # the root lies below hi (sigma = 902, q = 8.9e-5, T = 60084, delta = 1e-10
                # doubled on to the tilt cap and returned K' there, 2.6x below the truth)
                break
            lo, hi = hi, 2.0 * hi
            if self.cgf(hi).K1 >= self.eps_max * (1.0 - 1e-12):
                return self.eps_max
            if hi > _T_MAX:
                raise ValueError("the saddle point of the target lies beyond the tilts the kernels resolve")
        for _ in range(60):
            if math.isfinite(self.log_delta_at_tilt(lo)):
                break
            mid = 0.5 * (lo + hi)
            if -math.inf < self.log_delta_at_tilt(mid) <= target:
                hi = mid
            else:
                lo = mid
        else:
            # the formula is invalid (non-positive) right up to where it drops below the
            # target (a far mode of the tilted law switching on): the root is sought on the
            # integral alone, on the line through the tilt where Chernoff's estimate meets
            # the target (the edge of validity can lie far beyond: q = 1e-4, sigma = 0.6875,
            # T = 50000, delta = 1e-3 fell back to Edgeworth, 0.7% off)
            t = self._chernoff_tilt(target, max(t0, 1.0), hi)
            inv = self.inversion(t, force=True)
            if inv is None:
                raise ValueError("the saddle-point formula has no valid value above the target delta")
            return self._solve(inv, target, self.cgf(t).K1, t, forced=True, must=True)
        t = brentq(lambda s: self.log_delta_at_tilt(s) - target, lo, hi, xtol=1e-13, rtol=1e-13)
        eps = self.cgf(t).K1
        inv, forced = self._integral_for(t, strict)
        return self._solve(inv, target, eps, t, forced, must=strict) if inv is not None else on_eps_grid(max(eps, 0.0), True)

    def _chernoff_tilt(self, target: float, lo: float, hi: float) -> float:
        """The tilt t in (lo, hi), lo >= 1, where :func:`_chernoff_log_delta` meets
        ``target``, by bisection (its exponent falls as t rises: its derivative is
        -(t - 1) K''(t))."""
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _chernoff_log_delta(mid, self.cgf(mid)) > target:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-6 * hi:
                break
        return 0.5 * (lo + hi)

    def _solve(self, inv: TiltedInversion, target: float, eps0: float, t: float, forced: bool,
               must: bool) -> float:
        """eps with log delta(eps) = target on the integral, from eps0 (the formula's root),
        taken again on the line through the answer's own saddle point where the table was
        set up for another delta or line (at most _RELINE times); eps0 itself if no root is
        found, or a ValueError if ``must`` (no formula to fall back on)."""
        eps = inv.epsilon(target, eps0)
        if eps is None or not 0.0 <= eps < self.eps_max:
            if must:
                raise ValueError("the inversion of the tilted sum did not settle")
            return on_eps_grid(max(eps0, 0.0), True)
        for _ in range(_RELINE):
            # the table's step and cut were set for a delta near eps0 (its hint); where the
            # answer's delta lies far below that, or its saddle point far from the line, it
            # is integrated again on the line through that saddle point, its cut set for the
            # target (q = 2.8e-5, sigma = 1.3, T = 1.7e6, delta = 1e-15: a table for e^-23
            # gave 0.2375 or 0.2401 for sigma 1e-12 apart, certified bracket [0.2314, 0.2386])
            try:
                t1 = self.tilt(eps)
            except ValueError:
                break
            near = abs(t1 - inv.c) <= _RELINE_TOL * max(abs(t1), 1.0) and inv.hint <= target + _RELINE_SLACK
            if near or self.bridged(t1):
                break
            inv1 = self.inversion(t1, cap=target)
            eps1 = inv1.epsilon(target, eps) if inv1 is not None else None
            if eps1 is None or not 0.0 <= eps1 < self.eps_max:
                break
            inv, eps, forced = inv1, eps1, False
        eps = min(on_eps_grid(eps, True), self.eps_max)
        try:  # delta(eps) reads the same integral
            self._remember(_key(self.tilt(eps), forced), inv)
        except ValueError:
            pass
        return eps

    def far_from_normal(self, eps: float) -> str | None:
        """Why the estimate at eps may be poor, or None: the tilted sum far from normal
        (|lambda| > 1) where no inversion replaced the Lugannani-Rice value."""
        l3, l4 = tilted_normality(self, eps)
        if max(abs(l3), abs(l4)) <= 1.0:
            return None
        try:   # the integral that answered at eps, if one did (looked up, never computed here)
            t = self.tilt(eps)
            if any(self._inversions.get(_key(t, forced)) is not None for forced in (False, True)):
                return None
        except ValueError:
            pass
        return f"the tilted sum is far from normal (lambda3 = {l3:.3g}, lambda4 = {l4:.3g})"


def tilted_normality(profile: SaddlePointProfile, eps: float) -> tuple[float, float]:
    """(lambda3, lambda4) of the tilted sum at the saddle point of eps: how far from normal
    the law is that the Lugannani-Rice formula treats as nearly normal ((0, 0) above the
    support, where delta = 0 exactly)."""
    if eps >= profile.eps_max:
        return 0.0, 0.0
    try:
        d = profile.cgf(profile.tilt(eps))
    except ValueError:
        return 0.0, 0.0
    return d.K3 / d.K2 ** 1.5, d.K4 / d.K2 ** 2
