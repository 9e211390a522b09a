"""The privacy-loss log-likelihood ratio (PLLR) of one step: tilted moments, cumulants and
the cumulant generating function (CGF), from the quadrature kernels.

For the pair P = N(0,1), Q = (1-q)N(0,1) + qN(mu,1) (DESIGN.md section 1),

    K(t) = log E_P[exp(t L)],   X = L under P (t = 0),   Y = L under Q (t = 1),

and K_Y(t) = K_X(t + 1). Cumulants add under composition, so a ledger needs these per
distinct (q, mu) only; results are cached. Accuracy: ~1e-12 relative to the scale E|L - m|^k
(quadrature tolerance 1e-12 on a pessimistic error estimate; checked against 30-digit
mpmath in the tests).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ._kernels import core


class TiltedMoments(NamedTuple):
    """Moments of L under the tilted law phi(x) e^{tL(x) - K(t)}."""

    K: float        #: the CGF K(t)
    mean: float     #: K'(t)
    c2: float       #: central moments E[(L - mean)^k], k = 2..5 (c2 = K''(t))
    c3: float
    c4: float
    c5: float
    a1: float       #: E|L - mean|
    a3: float       #: E|L - mean|^3

    def cumulants(self) -> np.ndarray:
        """kappa_1..kappa_5 from central moments: k4 = c4 - 3 c2^2, k5 = c5 - 10 c3 c2."""
        return np.array([self.mean, self.c2, self.c3, self.c4 - 3.0 * self.c2 ** 2,
                         self.c5 - 10.0 * self.c3 * self.c2])


class QuadratureError(ArithmeticError):
    """A PLLR integral came out non-finite (never expected for validated input)."""


@lru_cache(maxsize=16384)
def tilted_moments(q: float, mu: float, t: float) -> TiltedMoments:
    """Moments of the PLLR of one step under the tilt t (t = 0: under P; t = 1: under Q)."""
    out = np.empty(8)
    core.pllr_moments(float(q), float(mu), float(t), out)
    if not np.all(np.isfinite(out)):
        raise QuadratureError(f"PLLR moments not finite for q={q!r}, mu={mu!r}, t={t!r}: {out}")
    return TiltedMoments(*map(float, out))


@lru_cache(maxsize=16384)
def step_cumulants(q: float, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """(kappa_1..5 of X, kappa_1..5 of Y) for one step; read-only arrays. Both laws come
    from one set of integrand evaluations (dQ/dP = e^L)."""
    out = np.empty(16)
    core.pllr_moments_xy(float(q), float(mu), out)
    if not np.all(np.isfinite(out)):
        raise QuadratureError(f"PLLR moments not finite for q={q!r}, mu={mu!r}: {out}")
    cx = TiltedMoments(*map(float, out[:8])).cumulants()
    cy = TiltedMoments(*map(float, out[8:])).cumulants()
    cx.setflags(write=False)
    cy.setflags(write=False)
    return cx, cy


def cgf(q: float, mu: float, t) -> np.ndarray:
    """K(t) = log E_P[exp(t L)] at every t (any real t; overflow-free in log space)."""
    t = np.ascontiguousarray(np.atleast_1d(t), dtype=float)
    out = np.empty_like(t)
    core.pllr_cgf(float(q), float(mu), t, out)
    if not np.all(np.isfinite(out)):
        raise QuadratureError(f"CGF not finite for q={q!r}, mu={mu!r}")
    return out
