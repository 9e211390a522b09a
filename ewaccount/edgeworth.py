"""Edgeworth expansions of the composed PLLR and the privacy profile they give.

Pure functions of numbers: summed cumulants in, delta(eps) and eps(delta) out.

For a sum with cumulants K_j, z = (x - K1)/sqrt(K2) and lambda_j = K_j / K2^{j/2}, the
Edgeworth CDF (Wang et al. 2022, arXiv 2206.04236; research/edgeworth.md section 4) is

    G(x) = Phi(z) - phi(z) [ l3/6 He2 + (l4/24 He3 + l3^2/72 He5)
                             + (l5/120 He4 + l3 l4/144 He6 + l3^3/1296 He8) ],

"order k" keeping the first k groups (order 0 is the CLT). The survival function is
computed directly, S = Phi-bar(z)(1 + c(z) r(z)) with r the inverse Mills ratio, and the
raw privacy profile of the ordered pair is

    delta_raw(eps) = S_Y(eps) - e^eps S_X(eps) = S_Y (-expm1(eps + log S_X - log S_Y)).

The raw expansion is not a distribution: it can be negative, above 1 and non-monotone.
The reported delta(eps) is its non-increasing envelope sup_{eps' >= eps} clip(delta_raw,
0, 1), and eps(delta) the largest root of delta_raw = delta (0 if none) -- DESIGN.md
section 2. Both come from one scan of delta_raw per ledger that locates every extremum.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._epsgrid import on_eps_grid
from ._kernels import core

#: |lambda_3| or |lambda_4| of the sum above this: the expansion is flagged as unreliable
#: (research/edgeworth.md section 11.4: at EW-Tune's MNLI settings, 0.34 / 0.46 already
#: give more than one unit of eps error at delta = 1e-5).
UNRELIABLE_LAMBDA = 0.1

# probabilists' Hermite polynomials, monomial coefficients (constant term first)
_HE = {
    2: [-1, 0, 1],
    3: [0, -3, 0, 1],
    4: [3, 0, -6, 0, 1],
    5: [0, 15, 0, -10, 0, 1],
    6: [-15, 0, 45, 0, -15, 0, 1],
    8: [105, 0, -420, 0, 210, 0, -28, 0, 1],
}

_SCAN_LOG_FLOOR = 760.0     # scan where a term can exceed e^-760 (below the double range)
_SCAN_STEP = 0.1            # grid step in units of the smaller standard deviation (with the
                            # slope at each point: a scan of 2 evaluations per step)
_SCAN_MAX_POINTS = 4001
#: a sum with K2 below this is read as a point mass at K1 (s^5 would underflow), standard
#: deviation _S_POINT_MASS: a step of negligible width, with no Hermite correction
_K2_POINT_MASS = 1e-120
_S_POINT_MASS = 1e-150


def standardised(cumulants) -> tuple[float, float, float, float, float]:
    """(K1, s, lambda3, lambda4, lambda5) of a cumulant vector K1..K5, s = sqrt(K2)."""
    k1, k2, k3, k4, k5 = (float(c) for c in cumulants)
    if not k2 > _K2_POINT_MASS:  # a point mass at K1 (e.g. the null's variance underflows
        return k1, _S_POINT_MASS, 0.0, 0.0, 0.0  # at sigma ~ 0.01): no correction, no 0/0
    s = math.sqrt(k2)
    return k1, s, k3 / s ** 3, k4 / s ** 4, k5 / s ** 5


def expansion(cumulants, order: int) -> np.ndarray:
    """The 11 numbers [K1, s, a_0..a_8] with c(z) = sum a_k z^k the Hermite correction,
    S(x) = Phi-bar(z) + phi(z) c(z): the form the kernels evaluate."""
    k1, s, l3, l4, l5 = standardised(cumulants)
    a = np.zeros(9)
    terms = []
    if order >= 1:
        terms += [(l3 / 6.0, 2)]
    if order >= 2:
        terms += [(l4 / 24.0, 3), (l3 * l3 / 72.0, 5)]
    if order >= 3:
        terms += [(l5 / 120.0, 4), (l3 * l4 / 144.0, 6), (l3 ** 3 / 1296.0, 8)]
    for coef, n in terms:
        a[: n + 1] += coef * np.asarray(_HE[n], dtype=float)
    return np.concatenate(([k1, s], a))


def oriented(cx, cy, ordering: str) -> tuple[np.ndarray, np.ndarray]:
    """(null, alternative) cumulants of the ordered pair: "pq" is (X, Y); "qp" swaps the
    pair, whose PLLR is -L: null -Y, alternative -X, kappa_j(-Z) = (-1)^j kappa_j(Z)."""
    if ordering == "pq":
        return np.asarray(cx, float), np.asarray(cy, float)
    sign = np.array([-1.0, 1.0, -1.0, 1.0, -1.0])
    return sign * np.asarray(cy, float), sign * np.asarray(cx, float)


@dataclass(frozen=True)
class Diagnostics:
    """How far the expansion can be trusted: the standardised cumulants of the sums and
    whether the raw profile left [0, 1] or was non-monotone on the scanned range."""

    lambda3: float          #: max |lambda_3| over null and alternative
    lambda4: float          #: max |lambda_4|
    raw_min: float
    raw_max: float
    n_extrema: int

    @property
    def unreliable(self) -> bool:
        return self.lambda3 > UNRELIABLE_LAMBDA or self.lambda4 > UNRELIABLE_LAMBDA

    @property
    def left_unit_interval(self) -> bool:
        return self.raw_min < 0.0 or self.raw_max > 1.0 + 1e-9


class EdgeworthProfile:
    """delta(eps) and eps(delta) of one ordered pair from the summed cumulants.

    Parameters
    ----------
    null, alt : array of 5 floats
        Cumulants K1..K5 of the composed PLLR under the null and the alternative.
    order : int
        0 (CLT) to 3.
    """

    def __init__(self, null, alt, order: int) -> None:
        self.order = order
        self.ex = expansion(null, order)
        self.ey = expansion(alt, order)
        lx, ly = standardised(null)[2:4], standardised(alt)[2:4]
        self._scan()
        self.diagnostics = Diagnostics(
            lambda3=max(abs(lx[0]), abs(ly[0])), lambda4=max(abs(lx[1]), abs(ly[1])),
            raw_min=float(self._vals.min()) if self._vals.size else 0.0,
            raw_max=float(self._vals.max()) if self._vals.size else 0.0,
            n_extrema=len(self._ext_locs))

    # -- scan -------------------------------------------------------------------------
    def _range(self) -> tuple[float, float] | None:
        """eps range outside which delta_raw is constant to within e^-760: each term's
        polynomial-times-Gaussian bound is below the double range there."""
        k1x, sx = self.ex[0], self.ex[1]
        k1y, sy = self.ey[0], self.ey[1]
        zc = 40.0
        pb_x = 1.26 + float(np.sum(np.abs(self.ex[2:]) * zc ** np.arange(9)))
        pb_y = 1.26 + float(np.sum(np.abs(self.ey[2:]) * zc ** np.arange(9)))
        zy = math.sqrt(2.0 * (_SCAN_LOG_FLOOR + math.log(pb_y)))
        lo, hi = [k1y - zy * sy], [k1y + zy * sy]
        # X term e^eps phi(z_X): eps - (eps - K1)^2/(2 s^2) >= -D  <=>  |eps - K1 - s^2| <= s sqrt(s^2 + 2K1 + 2D)
        disc = sx * sx + 2.0 * k1x + 2.0 * (_SCAN_LOG_FLOOR + math.log(pb_x))
        if disc > 0.0:
            w = sx * math.sqrt(disc)
            lo.append(k1x + sx * sx - w)
            hi.append(k1x + sx * sx + w)
        a, b = max(0.0, min(lo)), max(hi)
        return (a, b) if b > a else None

    def _scan(self) -> None:
        rng = self._range()
        empty = np.empty(0)
        self._ext_locs, self._max_locs, self._max_suffix = empty, empty, empty
        if rng is None:
            self._locs, self._vals = np.array([0.0]), np.array([self.delta_raw(0.0)])
            self._end = 0.0
            return
        a, b = rng
        h = _SCAN_STEP * min(self.ex[1], self.ey[1])
        n = int(min(_SCAN_MAX_POINTS, max(3, math.ceil((b - a) / h) + 1)))
        grid = np.linspace(a, b, n)
        vals = np.empty(n)
        core.ew_delta_grid(grid, self.ex, self.ey, vals)
        self._end = b
        # extrema: sign changes of the differences, ignoring rounding-level steps
        finite = np.clip(vals, -1e300, 1e300)  # the raw curve can overflow far out
        dv = np.diff(finite)
        noise = 1e-13 * np.maximum(np.abs(finite[:-1]), np.abs(finite[1:])) + 1e-300
        sgn = np.where(np.abs(dv) > noise, np.sign(dv), 0.0)
        idx = np.flatnonzero(sgn)
        turns = np.flatnonzero(sgn[idx[:-1]] != sgn[idx[1:]]) if idx.size > 1 else idx[:0]
        ext_l, ext_v, max_l, max_v = [], [], [], []
        for k in turns:
            i, j = idx[k], idx[k + 1] + 1
            up = sgn[idx[k]] > 0
            x, val = core.ew_extremum(float(grid[i]), float(grid[j]), 1.0 if up else -1.0,
                                      self.ex, self.ey)
            ext_l.append(x)
            ext_v.append(val)
            if up:
                max_l.append(x)
                max_v.append(val)
        # a maximum inside one grid step, with the curve lower at the step's far end, shows
        # in no sign change of the differences (order 3 at q = 0.001, sigma = 0.625,
        # T = 276: a bump of 2e-4 within 0.001 of eps = 0, so delta(0) < delta(0.0005)).
        # The slope at each grid point (a forward difference) shows it: a step that rises
        # at its left end but ends lower, with no rise before it; or one that ends higher
        # but falls at its right end, with a rise after it
        ahead = np.empty(n)
        core.ew_delta_grid(grid + 1e-7 * h, self.ex, self.ey, ahead)
        da = np.clip(ahead, -1e300, 1e300) - finite
        slope = np.where(np.abs(da) > 1e-13 * np.abs(finite) + 1e-300, np.sign(da), 0.0)
        before = np.concatenate(([0.0], sgn[:-1]))
        after = np.concatenate((sgn[1:], [0.0]))
        hidden = np.flatnonzero(((slope[:-1] > 0.0) & (sgn < 0.0) & (before <= 0.0))
                                | ((slope[1:] < 0.0) & (sgn > 0.0) & (after > 0.0)))
        for i in hidden:
            x, val = core.ew_extremum(float(grid[i]), float(grid[i + 1]), 1.0, self.ex, self.ey)
            ext_l.append(x)
            ext_v.append(val)
            max_l.append(x)
            max_v.append(val)
        locs = np.concatenate((grid, ext_l))
        allv = np.concatenate((vals, ext_v))
        order = np.argsort(locs, kind="stable")
        self._locs, self._vals = locs[order], allv[order]
        self._ext_locs = np.sort(np.asarray(ext_l))
        by = np.argsort(np.asarray(max_l), kind="stable")
        self._max_locs = np.asarray(max_l)[by]
        # suffix maxima of the local maxima, for the envelope
        self._max_suffix = np.maximum.accumulate(np.asarray(max_v)[by][::-1])[::-1] if max_v else empty

    # -- queries ------------------------------------------------------------------------
    def delta_raw(self, eps: float) -> float:
        """The raw expansion S_Y(eps) - e^eps S_X(eps) (may be negative or above 1)."""
        return float(core.ew_delta(float(eps), self.ex, self.ey))

    def delta(self, eps: float) -> float:
        """Non-increasing envelope sup_{eps' >= eps} clip(delta_raw(eps'), 0, 1), read at eps
        on the grid of :func:`on_eps_grid` (rounding-level rises between nearby eps)."""
        eps = on_eps_grid(eps)
        v = self.delta_raw(eps)
        if math.isnan(v) and eps > self._end:  # e^eps S_X(eps) = inf * 0 far beyond the scanned
            v = 0.0                            # range, where delta_raw is 0 to within e^-760
        k = int(np.searchsorted(self._max_locs, eps, side="right"))
        if k < self._max_suffix.size:
            v = max(v, float(self._max_suffix[k]))
        return min(max(v, 0.0), 1.0)

    def epsilon(self, delta: float) -> float:
        """Largest root of delta_raw(eps) = delta on [0, inf); 0 when there is none."""
        above = np.flatnonzero(self._vals >= delta)
        if above.size == 0:
            return 0.0
        k = int(above[-1])
        if k + 1 >= self._locs.size:  # cannot happen for delta > e^-745; be safe, not wrong
            return float(self._end)
        a, b = float(self._locs[k]), float(self._locs[k + 1])
        root = core.ew_root(a, b, math.log(delta), self.ex, self.ey, 1e-15 * max(abs(a), abs(b)))
        if math.isnan(root):  # bracket lost to rounding: the grid point is within tolerance
            root = a
        root = on_eps_grid(max(float(root), 0.0), True)
        # Where delta_raw is a small difference of two O(1) terms, rounding can leave the
        # root a few ulps short; step up (at most to b) so that delta(eps(delta)) <= delta.
        step = 1e-14 * max(root, 1e-300)
        while self.delta(root) > delta and root < b:
            root = min(on_eps_grid(root + step, True), b)
            step *= 4.0
        return root

    def nonmonotone_above(self, eps: float, delta: float) -> bool:
        """True when delta_raw rises again above eps to a local maximum >= delta/10: a
        further crossing of delta was close (the answer is sensitive to the expansion)."""
        k = int(np.searchsorted(self._max_locs, eps, side="right"))
        return bool(k < self._max_suffix.size and self._max_suffix[k] >= 0.1 * delta)
