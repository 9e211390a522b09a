"""delta(eps) by numerical inversion of the tilted PLLR sum: the Bromwich integral taken
along the line through the saddle point, where the Lugannani-Rice formula is not enough.

For an ordered pair whose composed PLLR S has CGF K(z) under P (so K(z + 1) under Q),

    delta(eps) = E_Q[(1 - e^{eps - S})_+]
               = 1/(2 pi i) int_{c - i inf}^{c + i inf} exp(K(z) - (z - 1) eps) / (z (z - 1)) dz,   c > 1,

from 1{s > e}(1 - e^{e - s}) = 1/(2 pi i) int e^{w (s - e)} (1/w - 1/(w + 1)) dw (Re w > 0) with
w = z - 1, taken inside E_Q. By conjugate symmetry, with z = c + iu,

    delta(eps) = (1/pi) int_0^inf Re G(u) du,   G(u) = exp(K(c + iu) - (z - 1) eps) / (z (z - 1)).

At the saddle point (K'(c) = eps) |G| is largest at u = 0 and falls off like the
characteristic function of the c-tilted sum; the trapezoid rule with step h = 2 pi / D is
then exact up to aliasing (Poisson summation): sum_{m != 0} e^{(c - 1) m D} delta(eps + m D),
at most e^{-(c - 1) D} / delta(eps) relative for m < 0 (delta <= 1) and about the c-tilted
mass farther than D from eps for m > 0. D is chosen to make both < ~1e-9 (D >= 16 tilted
standard deviations, and (c - 1) D >= log(1/delta) + 21); the integral is cut where |G| has
fallen below 1e-10 of G(0). This is the saddle-point method carried to the exact integral
(Daniels 1954; Abate & Whitt 1992 for the trapezoid rule on the Bromwich line): unlike the
Lugannani-Rice series it stays exact when the tilted sum is far from normal (small q and
delta: a Poisson number of large privacy losses), and it remains an estimate, not a bound:
its error terms are estimated, not bounded.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple, Optional

import numpy as np
from scipy.optimize import brentq

#: a complex CGF of the sum: (c, u0, h, n) -> (K(c + iu) at u = u0 + k h, k < n, work done)
#: (and, beside it, the real one: t -> (K, K', K'', ...) at t)
ComplexCGF = Callable[[float, np.ndarray], np.ndarray]

_SPAN_SD = 16.0        # D >= this many tilted standard deviations
_ALIAS_LOG = 21.0      # e^{-(c - 1) D} <= e^-21 delta (~1e-9 relative)
_CUT = math.log(1e-10)  # |G(u)| / |G(0)| below this: the tail is dropped
_MAX_NODES = 1 << 15   # more nodes than this: no inversion (the caller keeps its estimate)
_MAX_BLOCK = 256       # grid points tabulated between checks of the decay
_MAX_WORK = 5e7        # quadrature nodes times grid points (~0.25 s): beyond, no inversion
_C_MIN = 1.05          # the line must keep clear of the pole at z = 1
_FEW_NODES = 2000      # a saddle-point line this cheap is kept without looking further
_MAX_FORCED_EXCESS = 25.0   # any line: beyond, the cancellation (~1e-16 e^25) is not worth it
_MAX_EXCESS = 18.0     # |G(0)| / delta at most e^18: the sum keeps ~1e-8 relative accuracy


def _right_span(cgf, c: float, K: float, K1: float, sd: float, log_tol: float) -> float:
    """A distance D beyond which the c-tilted sum has mass <= e^-log_tol, by Chernoff:
    P_c(S > K'(c) + D) <= exp(K(c + s) - K(c) - s (K'(c) + D)), minimised over a ladder of
    s (the sum may be far from normal: a few large jumps), and never below _SPAN_SD sd."""
    best = math.inf
    ladder = sorted({2.0 ** k / sd for k in range(-3, 8)} | {2.0 ** k for k in range(-4, 4)})
    for s in ladder:   # relative to sd for a near-normal sum, absolute for rare large jumps
        if s > 64.0 + 4.0 * abs(c):   # far tilts cost the kernel more and bound little better
            break
        try:
            Ks = cgf(c + s)[0]
        except (ArithmeticError, ValueError):
            break
        best = min(best, (Ks - K - s * K1 + log_tol) / s)
    return max(best, _SPAN_SD * sd)


class _Line(NamedTuple):
    """The trapezoid rule on Re z = c for delta near eps: its step comes from the span D,
    its cut from the excess of |G(0)| over delta (the cancellation it has to absorb)."""

    c: float
    span: float
    excess: float
    sd: float

    @property
    def nodes(self) -> float:
        """Grid points to the cut, were |G| to fall off like a normal characteristic function."""
        return self.span / (2.0 * math.pi) * math.sqrt(2.0 * (self.excess - _CUT)) / self.sd


def _line(cgf, c: float, eps: float, log_delta: float) -> _Line:
    """Aliasing (Poisson summation) at step 2 pi / D adds sum_{m != 0} e^{(c-1) m D}
    delta(eps + m D). For m < 0 (delta <= 1) that is <= e^{-(c-1) D}; for m > 0, as
    P_Q(S > x) <= e^{K(c) - (c-1) x} P_c(S > x), it is <= e^{K(c) - (c-1) eps} P_c(S > eps + D).
    Relative to delta both must be <= e^-_ALIAS_LOG."""
    d = cgf(c)
    sd = math.sqrt(d[2])
    excess = max(d[0] - (c - 1.0) * eps - math.log(c * (c - 1.0)) - log_delta, 0.0)
    span = max(max(d[1] - eps, 0.0) + _right_span(cgf, c, d[0], d[1], sd, _ALIAS_LOG + excess),
               (max(-log_delta, 0.0) + _ALIAS_LOG) / (c - 1.0))
    return _Line(c, span, excess, sd)


def best_line(cgf, t: float, log_delta: float) -> float:
    """The line Re z = c >= t to integrate on for delta near eps = K'(t): the saddle point t
    itself unless a line a little to its right costs far fewer nodes (where the tilted sum
    is one rare large loss away from an atom, its sd grows fast with the tilt) without
    more than e^_MAX_EXCESS of cancellation."""
    if t < _C_MIN or not math.isfinite(log_delta):
        return t
    eps = cgf(t)[1]
    lines = [_line(cgf, t, eps, log_delta)]
    if lines[0].nodes <= _FEW_NODES:
        return t
    lines += [_line(cgf, t * (1.0 + 0.04 * k), eps, log_delta) for k in range(1, 6)]
    return min((ln for ln in lines if ln.excess <= _MAX_EXCESS), key=lambda ln: ln.nodes, default=lines[0]).c


class TiltedInversion:
    """The trapezoid-rule Bromwich integral on the line Re z = c, tabulated once: then
    delta(eps) for any eps near eps0 costs one weighted sum.

    ``ok`` is False when c is too close to the pole at 1 or the integrand decays too slowly
    to tabulate in _MAX_NODES nodes (a near-atomic sum); the caller then keeps its estimate.
    """

    def __init__(self, ccgf: ComplexCGF, cgf: Callable[[float], tuple], c: float, eps0: float,
                 log_delta_hint: float) -> None:
        self.c = c
        self.hint = log_delta_hint   #: the log delta its step and cut were set for
        self.ok = c >= _C_MIN and math.isfinite(log_delta_hint)
        if not self.ok:
            return
        line = _line(cgf, c, eps0, log_delta_hint)
        self.ok = line.sd > 0.0 and line.excess <= _MAX_FORCED_EXCESS
        if not self.ok:
            return
        span, sd, cut = line.span, line.sd, _CUT - line.excess
        h = 2.0 * math.pi / span
        per_block = min(max(32, int(8.0 / (sd * h))), _MAX_BLOCK)
        logs, top, work, n_done = [], None, 0, 0
        while True:
            if n_done >= _MAX_NODES or work > _MAX_WORK:
                self.ok = False
                return
            u0 = h * n_done
            u = u0 + h * np.arange(per_block)
            try:
                k, w = ccgf(c, u0, h, per_block)
            except ValueError:  # the characteristic function needs too many nodes out here
                self.ok = False
                return
            work += w
            logg = k - np.log((c + 1j * u) * (c - 1.0 + 1j * u))
            top = logg[0].real if top is None else top
            below = logg.real - top < cut
            if below[-1]:
                keep = len(below) - int(np.argmin(below[::-1]))  # through the last node above the cut
                logs.append(logg[:max(keep, 1)])
                break
            logs.append(logg)
            n_done += logg.size
        self.log_b = np.concatenate(logs)
        self.u = h * np.arange(self.log_b.size)
        self.z1 = (c - 1.0) + 1j * self.u
        self.w = np.full(self.u.size, h / math.pi)
        self.w[0] *= 0.5

    def _terms(self, eps: float) -> tuple[np.ndarray, float]:
        """Re-part weights of G(u) e^{-shift} at eps, and the shift (log scale) used."""
        e = self.log_b - self.z1 * eps
        shift = float(e[0].real)
        return np.exp(e - shift), shift

    def log_delta(self, eps: float) -> float:
        """log delta(eps); -inf where the integral comes out non-positive (below its noise)."""
        g, shift = self._terms(eps)
        val = float(self.w @ g.real)
        return math.log(val) + shift if val > 0.0 else -math.inf

    def epsilon(self, log_delta: float, eps0: float) -> Optional[float]:
        """The eps with log delta(eps) = log_delta: bracketed from eps0 in steps of
        1 / (c - 1) (log delta falls by about one per step), then Brent's method on the
        table (each evaluation one weighted sum); None if no bracket is found."""
        f = lambda e: self.log_delta(e) - log_delta   # -inf below the integral's noise
        step = 1.0 / (self.c - 1.0)
        f0 = f(eps0)
        lo = hi = eps0
        f_lo = f_hi = f0
        for _ in range(100):   # walk towards the root until f changes sign
            if f_lo > 0.0 >= f_hi:
                break
            if f0 > 0.0:
                lo, f_lo = hi, f_hi
                hi += step
                f_hi = f(hi)
            else:
                hi, f_hi = lo, f_lo
                lo -= step
                f_lo = f(lo)
            step *= 1.5
        else:
            return None
        for _ in range(60):    # keep the bracket's low side above the integral's noise
            if f_hi > -math.inf:
                break
            mid = 0.5 * (lo + hi)
            f_mid = f(mid)
            if f_mid > 0.0:
                lo, f_lo = mid, f_mid
            else:
                hi, f_hi = mid, f_mid
        else:
            return None
        return brentq(f, lo, hi, xtol=1e-14, rtol=1e-13)
