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

import math

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
        return np.array([self.mean, self.c2, self.c3, self.c4 - 3.0 * self.c2 * self.c2,
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


# ---------------------------------------------------------------------------------------
# The CGF off the real axis, K(c + iu) = K(c) + log E_c[exp(iuL)], for the numerical
# inversion of the tilted sum (ewaccount.inversion). E_c is the tilted law at c.

_GLX, _GLW = np.polynomial.legendre.leggauss(16)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TAIL = 40.0          # tilted weight below e^-40 of the total is dropped (<= 1e-16 per step)
_PHASE = 16.0         # radians of e^{iuL} per 16-node Gauss-Legendre panel (error < 1e-13)
_MAX_X_NODES = 16384  # beyond this (|u| far out for a near-atomic law) complex_cgf declines


def pllr_values(q: float, mu: float, x: np.ndarray) -> np.ndarray:
    """L(x) = log(1 - q + q e^v), v = mu x - mu^2/2, without overflow or cancellation."""
    v = mu * x - 0.5 * mu * mu
    if q >= 1.0:
        return v
    small = v < 30.0
    return np.where(small, np.log1p(q * np.expm1(np.minimum(v, 30.0))),
                    v + np.log(q + (1.0 - q) * np.exp(-np.maximum(v, 30.0))))


def _tilted_support(q: float, mu: float, c: float, K: float) -> list[tuple[float, float]]:
    """Intervals outside which phi(x) e^{cL(x) - K} < e^-_TAIL, from Gaussian envelopes of
    e^{cL}: max(1, e^{cv}) for c >= 0 (two modes, at 0 and at c mu), min((1-q)^c, q^c e^{cv})
    for c < 0 (v = mu x - mu^2/2, log phi dropped as a further margin)."""
    A = 0.5 * c * (c - 1.0) * mu * mu
    if c >= 0.0:
        parts = [(0.0, 2.0 * (_TAIL - K)), (c * mu, 2.0 * (_TAIL + A - K))]
        ivs = sorted((m - math.sqrt(r), m + math.sqrt(r)) for m, r in parts if r > 0.0)
        if len(ivs) == 2 and ivs[1][0] <= ivs[0][1]:
            ivs = [(ivs[0][0], max(ivs[0][1], ivs[1][1]))]
        return ivs
    r1 = 2.0 * (_TAIL + c * math.log1p(-q) - K) if q < 1.0 else math.inf
    r2 = 2.0 * (_TAIL + A + c * math.log(q) - K)
    lo, hi = max(-math.sqrt(max(r1, 0.0)), c * mu - math.sqrt(max(r2, 0.0))), \
        min(math.sqrt(max(r1, 0.0)), c * mu + math.sqrt(max(r2, 0.0)))
    return [(lo, hi)] if hi > lo else []


def _trimmed(q: float, mu: float, c: float, K: float) -> list[tuple[float, float]]:
    """The envelope intervals of _tilted_support cut down to the runs of a fine grid where
    the exact log weight -x^2/2 + cL(x) - K - log sqrt(2 pi) is >= -_TAIL - 4, widened by
    two grid steps (the envelopes drop log q, which is far from negligible at large c)."""
    out = []
    for lo, hi in _tilted_support(q, mu, c, K):
        grid = np.linspace(lo, hi, 4097)
        step = grid[1] - grid[0]
        if step > 0.25:   # the log weight's curvature is >= -1: a grid this fine sees every mode
            out.append((lo, hi))
            continue
        keep = -0.5 * grid * grid + c * pllr_values(q, mu, grid) - K - _LOG_SQRT_2PI >= -_TAIL - 4.0
        edges = np.flatnonzero(np.diff(np.concatenate(([0], keep.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):   # runs [a, b) of kept points
            out.append((max(lo, grid[a] - 2.0 * step), min(hi, grid[b - 1] + 2.0 * step)))
    return out


def _tilted_nodes(q: float, mu: float, c: float, u_max: float):
    """Gauss-Legendre nodes and normalised weights of the tilted law at c, panels short
    enough that e^{iuL} turns by at most _PHASE radians per panel for u <= u_max (panel
    edges at equal steps of x + u_max L(x) / _PHASE, which is increasing)."""
    K = float(cgf(q, mu, c)[0])
    xs, lws = [], []
    for lo, hi in _trimmed(q, mu, c, K):
        grid = np.linspace(lo, hi, 2049)
        psi = grid + u_max * pllr_values(q, mu, grid) / _PHASE
        n = max(1, int(math.ceil(psi[-1] - psi[0])))
        edges = np.interp(np.linspace(psi[0], psi[-1], n + 1), psi, grid)
        mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
        xs.append((mid[:, None] + half[:, None] * _GLX).ravel())
        lws.append((np.log(half)[:, None] + np.log(_GLW)).ravel())
    x, lw = np.concatenate(xs), np.concatenate(lws)
    if x.size > _MAX_X_NODES:
        raise ValueError(f"the tilted characteristic function needs {x.size} nodes (> {_MAX_X_NODES})")
    L = pllr_values(q, mu, x)
    lw = lw - 0.5 * x * x + c * L
    top = lw.max()
    w = np.exp(lw - top)
    total = w.sum()
    return K, w / total, L


def complex_cgf(q: float, mu: float, c: float, u0: float, h: float, n: int) -> tuple[np.ndarray, int]:
    """K(c + iu) at real c on the grid u = u0 + k h, k = 0..n-1 (u >= 0): K(c) from the
    kernel plus the log of the tilted characteristic function sum_j w_j e^{iu y_j}, y = L - m
    centred at the tilted mean m (so the phase stays small), by Gauss-Legendre quadrature;
    e^{iu y} is stepped along the grid by one complex product per node. Accuracy ~1e-13
    absolute in the log (checked against mpmath in the tests). Returns the values and the
    work done (nodes times grid points); ValueError if the grid's top u needs more than
    _MAX_X_NODES nodes."""
    K, w, L = _tilted_nodes(q, mu, c, u0 + h * max(n - 1, 0))
    m = float(w @ L)
    y = L - m
    step = np.exp(1j * h * y)
    v = np.exp(1j * u0 * y)
    cf = np.empty(n, dtype=complex)
    for k in range(n):
        cf[k] = v @ w
        v *= step
    u = u0 + h * np.arange(n)
    return K + 1j * u * m + np.log(cf), n * y.size
