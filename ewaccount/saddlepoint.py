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
not a bound, accurate to O(1/T) relative, and poor when the sum is nearly lattice
(few expected sampled steps, T q small).
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

from scipy.optimize import brentq
from scipy.special import log_ndtr

from .pllr import tilted_moments

#: expected number of times an example is sampled (sum of n_i q_i) below which the PLLR
#: sum is nearly lattice and the saddle point is flagged (DESIGN.md section 6).
NEAR_LATTICE = 5.0
U_MIN = 0.05          # |u| below this: interpolate across the removable singularity
_T_MAX = 2.0 ** 16     # tilts beyond this: delta is below the double range (see tilt())
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class Derivatives(NamedTuple):
    """K and its first four derivatives at t."""

    K: float
    K1: float
    K2: float
    K3: float
    K4: float


def ledger_cgf(ledger) -> Callable[[float], Derivatives]:
    """t -> derivatives of K(t) = sum n_i K_i(t) for a ledger of ((q, mu), n)."""
    def cgf(t: float) -> Derivatives:
        acc = [0.0] * 5
        for (q, mu), n in ledger:
            m = tilted_moments(q, mu, float(t))
            for j, val in enumerate((m.K, m.mean, m.c2, m.c3, m.c4 - 3.0 * m.c2 ** 2)):
                acc[j] += n * val
        return Derivatives(*acc)
    return cgf


def reflected(cgf: Callable[[float], Derivatives]) -> Callable[[float], Derivatives]:
    """The CGF of the swapped pair: K~(t) = K(1 - t) (odd derivatives change sign)."""
    def cgf_qp(t: float) -> Derivatives:
        d = cgf(1.0 - t)
        return Derivatives(d.K, -d.K1, d.K2, -d.K3, d.K4)
    return cgf_qp


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
    """log delta at eps = K'(t), or -inf where the approximation is non-positive."""
    x = d.K1
    wq, dq = _correction(t - 1.0, x, d)
    wp, dp = _correction(t, x, d)
    bracket = dq - _mills(wp) - dp
    if wq > 0.0:
        total = _mills(wq) + bracket
        return -0.5 * wq * wq - _LOG_SQRT_2PI + math.log(total) if total > 0.0 else -math.inf
    value = math.exp(float(log_ndtr(-wq))) + math.exp(-0.5 * wq * wq - _LOG_SQRT_2PI) * bracket
    return math.log(value) if value > 0.0 else -math.inf


class SaddlePointProfile:
    """delta(eps) and eps(delta) of one ordered pair from its CGF t -> Derivatives.

    ``eps_max`` is the top of the support of the PLLR sum (delta = 0 from there on): +inf
    for "pq", sum n_i log(1/(1 - q_i)) for "qp", whose per-step PLLR -L <= -log(1 - q).
    """

    def __init__(self, cgf: Callable[[float], Derivatives], eps_max: float = math.inf) -> None:
        self.cgf = cgf
        self.eps_max = eps_max

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
        """The saddle point t with K'(t) = eps: Newton steps (K'' > 0, K' increasing)
        safeguarded by a bracket that is widened until it holds the root."""
        if eps >= self.eps_max:
            raise ValueError(f"eps = {eps!r} is above the support of the PLLR sum")
        lo, hi = 0.0, 1.0
        while self.cgf(hi).K1 < eps:
            lo, hi = hi, 2.0 * hi
            if hi > _T_MAX:
                raise ValueError(f"eps = {eps!r} is beyond the tilts the kernels resolve")
        while self.cgf(lo).K1 > eps:
            lo, hi = lo - (hi - lo), lo
        t = 0.5 * (lo + hi)
        for _ in range(100):
            d = self.cgf(t)
            f = d.K1 - eps
            if f > 0.0:
                hi = t
            else:
                lo = t
            step = f / d.K2
            nxt = t - step
            if not lo < nxt < hi:
                nxt = 0.5 * (lo + hi)
            if abs(nxt - t) <= 1e-14 * max(1.0, abs(t)) or hi - lo <= 1e-14 * max(1.0, abs(t)):
                return nxt
            t = nxt
        return t

    def delta(self, eps: float) -> float:
        """delta(eps) (clipped to [0, 1]); 0 at and above the top of the support."""
        if eps >= self.eps_max:
            return 0.0
        try:
            t = self.tilt(eps)
        except ValueError:  # eps within rounding of the support's top: delta underflows
            return 0.0
        ld = self.log_delta_at_tilt(t)
        return min(max(math.exp(ld), 0.0), 1.0) if ld > -math.inf else 0.0

    def epsilon(self, delta: float) -> float:
        """eps(delta): the root in t of log delta(K'(t)) = log delta, then eps = K'(t)."""
        target = math.log(delta)
        t0 = self.tilt(0.0)
        if self.log_delta_at_tilt(t0) <= target:
            return 0.0
        lo, hi = t0, max(2.0, 2.0 * t0)
        while self.log_delta_at_tilt(hi) > target:
            lo, hi = hi, 2.0 * hi
            if hi > _T_MAX or self.cgf(hi).K1 >= self.eps_max * (1.0 - 1e-12):
                return min(self.cgf(lo).K1 if hi > _T_MAX else self.eps_max, self.eps_max)
        t = brentq(lambda s: self.log_delta_at_tilt(s) - target, lo, hi, xtol=1e-13, rtol=1e-13)
        return max(self.cgf(t).K1, 0.0)


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
