"""Finite-sample error bounds for the order-1 Edgeworth expansion and the (eps, delta) they give.

Pure functions of numbers (numpy, scipy and math only).

The bound is that of Derumigny, Girard & Guyonvarch, "Explicit non-asymptotic bounds for the
distance to the first-order Edgeworth expansion" (arXiv 2101.05780; Sankhya A 86, 261-336,
2024), abbreviated [D] below. For independent centred X_1..X_n with finite fourth moments and
S_n = sum X_i / B_n, [D] (eq. (1) and Theorem 2.1) bounds

    sup_x | P(S_n <= x) - Phi(x) - lambda_{3,n} / (6 sqrt(n)) (1 - x^2) phi(x) | <= Delta_n.

The expansion inside the absolute value is the order-1 Edgeworth CDF of the sum written in
standard form, so Delta_n also bounds sup_x |F_S(x) - G_order1(x)| of the unstandardised sum
(the supremum is invariant under the affine change of variable). research/edgeworth.md section
6.2 transcribes the iid, no-continuity, skewed case ([D] Theorem A.3, eq. (17), remainder eq.
(21), R-bar_n^iid of section C.3.2) with every constant; this module implements exactly that.

Section 6.1 of research/edgeworth.md turns Delta_X, Delta_Y into an interval for delta(eps)
(``edgeworth_delta_interval``) and an interval for eps(delta) (``epsilon_interval``). At DP-SGD
deltas the interval is vacuous by orders of magnitude (section 6.3 there): these functions say
so through ``vacuous`` and ``note`` rather than return a number that looks like a bound
(DESIGN.md section 3).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence, Tuple, Union

import numpy as np
from scipy import optimize, special

__all__ = [
    "EdgeworthBound",
    "StandardisedMoments",
    "derumigny_delta_n",
    "derumigny_delta_n_terms",
    "edgeworth_delta_bound",
    "edgeworth_delta_interval",
    "epsilon_interval",
    "standardised_moments",
]

#: |Psi(t)| <= PSI_BOUND / (2 pi |t|) ([D] eq. (9), section A.1).
PSI_BOUND = 1.0253
#: Leading constant of Delta_n: 1.2533 / T with T = 2 pi sqrt(n) / K3_tilde ([D] eq. (17)).
LEADING_CONSTANT = 0.1995

ArrayLike = Union[float, Sequence[float], np.ndarray]


# ---------------------------------------------------------------------------------------------
# Delta_n of [D], iid / no continuity / skewed
# ---------------------------------------------------------------------------------------------

def _finite_positive(name: str, value: float, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0 or (v == 0.0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def _upper_gamma(s: float, x: float) -> float:
    """Upper incomplete gamma Gamma(s, x) = int_x^inf u^{s-1} e^{-u} du (not regularised)."""
    return float(special.gammaincc(s, x) * special.gamma(s))


def _e3(eps: float) -> float:
    # research/edgeworth.md section 6.2: e3(eps) = exp(eps^2/6 + eps^2 / (2(1-3eps))^2), as
    # written there and in BoundEdgeworth's `e_3` (R/Bound_EE1_nocont.R).
    return math.exp(eps ** 2 / 6.0 + eps ** 2 / (2.0 * (1.0 - 3.0 * eps)) ** 2)


def _p2n(eps: float, n: float, K4: float, lambda3: float) -> float:
    # P_{2,n}(eps), [D] section C.2 (skewed case)
    al3 = abs(lambda3)
    return (48.0 * eps * math.sqrt(K4 / n)
            + 4.0 * eps ** 2 * K4 / n
            + 96.0 * math.sqrt(2.0 * eps) * al3 / (K4 ** 0.25 * n ** 0.25)
            + 32.0 * eps * lambda3 ** 2 / math.sqrt(K4 * n)
            + 16.0 * math.sqrt(2.0) * K4 ** 0.25 * al3 * eps ** 1.5 / n ** 0.75)


def _e2n(eps: float, p2n: float) -> float:
    # e_{2,n}(eps), [D] section C.2
    w = (1.0 - 3.0 * eps) ** 2
    return math.exp(eps ** 2 * (1.0 / 6.0 + 1.0 / (2.0 * w) + 2.0 * p2n / (576.0 * w)))


def _rbar_n_iid(eps: float, n: float, K4: float, lambda3: float, p2n: float, e2n: float) -> float:
    # R-bar_n^iid(eps), [D] section C.3.2: the seven closed-form terms A~1..A~7
    al3 = abs(lambda3)
    w = (1.0 - 3.0 * eps) ** 2
    c = PSI_BOUND / (2.0 * math.pi * w)
    g15, g4, g45, g5 = math.gamma(1.5), math.gamma(4.0), math.gamma(4.5), math.gamma(5.0)
    bracket = K4 / 12.0 + 1.0 / (4.0 * w) + p2n / (576.0 * w)
    a1 = c * al3 / (6.0 * n ** 1.5) * math.sqrt(2.0) * g15
    a2 = c * K4 / (24.0 * n ** 2) * 2.0 ** 3 * g4
    a3 = c * lambda3 ** 2 / (36.0 * n ** 2) * 2.0 ** 3 * g4
    a4 = c * K4 * al3 / (72.0 * n ** 2.5) * 2.0 ** 3.5 * g45
    a5 = c * K4 ** 2 / (576.0 * n ** 3) * 2.0 ** 4 * g5
    a6 = PSI_BOUND / math.pi * e2n / (8.0 * n ** 2) * bracket * 2.0 ** 4 * g5
    a7 = PSI_BOUND / math.pi * e2n * al3 / (12.0 * n ** 1.5) * bracket * 2.0 ** 3.5 * g45
    return a1 + a2 + a3 + a4 + a5 + a6 + a7


def derumigny_delta_n_terms(n: float, lambda3: float, K3_tilde: float, K3: float, K4: float,
                            eps_D: float = 0.1) -> dict:
    """The three parts of :func:`derumigny_delta_n`, for inspection.

    Returns a dict with ``leading`` (0.1995 K3_tilde / sqrt(n)), ``order_1_over_n`` (the
    bracket divided by n), ``r1n`` (the remainder r_{1,n}^{iid,skew}) and ``total`` (their
    sum). Arguments as in :func:`derumigny_delta_n`.
    """
    n = _finite_positive("n", n)
    if n < 1.0:
        raise ValueError(f"n must be >= 1, got {n!r}")
    try:
        lam = float(lambda3)
    except (TypeError, ValueError):
        raise ValueError(f"lambda3 must be a real number, got {lambda3!r}") from None
    if not math.isfinite(lam):
        raise ValueError(f"lambda3 must be finite, got {lambda3!r}")
    K3t = _finite_positive("K3_tilde", K3_tilde)
    K3v = _finite_positive("K3", K3)
    K4v = _finite_positive("K4", K4)
    eps = float(eps_D)
    if not (0.0 < eps < 1.0 / 3.0):
        raise ValueError(f"eps_D must lie in (0, 1/3), got {eps_D!r}")
    if K3t < K3v * (1.0 - 1e-12):
        raise ValueError(
            f"K3_tilde = K3 + (1/n) sum E|X_i| sigma_i^2 / Bbar_n^3 must be >= K3; got "
            f"K3_tilde={K3_tilde!r} < K3={K3!r} (arguments swapped?)")

    al3 = abs(lam)
    w = (1.0 - 3.0 * eps) ** 2
    sqn = math.sqrt(n)
    e3 = _e3(eps)

    leading = LEADING_CONSTANT * K3t / sqn
    order_n = (0.031 * K3t ** 2
               + 0.327 * K4v * (1.0 / 12.0 + 1.0 / (4.0 * w))
               + 0.054 * al3 * K3t
               + 0.037 * e3 * lam ** 2) / n

    p2n = _p2n(eps, n, K4v, lam)
    e2n = _e2n(eps, p2n)
    rbar = _rbar_n_iid(eps, n, K4v, lam, p2n, e2n)
    upper_end = 2.0 * sqn / K3t
    a = min(math.sqrt(2.0 * eps) * (n / K4v) ** 0.25, upper_end)
    r1n = ((14.1961 + 67.0415) * K3t ** 4 / (16.0 * math.pi ** 4 * n ** 2)
           + 4.3394 * al3 * K3t ** 3 / (8.0 * math.pi ** 3 * n ** 2)
           + rbar
           + 1.306 * (e2n - e3) * lam ** 2 / (36.0 * n)
           + al3 * (_upper_gamma(1.5, a) - _upper_gamma(1.5, upper_end)) / sqn
           + PSI_BOUND * 2.0 ** 2.5 * K3v / (3.0 * math.pi * sqn)
           * (_upper_gamma(1.5, a ** 2 / 8.0) - _upper_gamma(1.5, 4.0 * n / (8.0 * K3t ** 2))))
    return {"leading": leading, "order_1_over_n": order_n, "r1n": r1n,
            "total": leading + order_n + r1n}


def derumigny_delta_n(n: float, lambda3: float, K3_tilde: float, K3: float, K4: float,
                      eps_D: float = 0.1) -> float:
    """Explicit bound Delta_n on the order-1 Edgeworth error of a standardised iid sum.

    Derumigny, Girard & Guyonvarch (arXiv 2101.05780), Theorem A.3 (iid, no continuity
    assumption, skewed case), eq. (17) with the remainder r_{1,n}^{iid,skew}(eps) of eq. (21)
    and R-bar_n^iid(eps) of section C.3.2; transcribed in research/edgeworth.md section 6.2:

        Delta_n = 0.1995 K3_tilde / sqrt(n)
                + [0.031 K3_tilde^2 + 0.327 K4 (1/12 + 1/(4(1-3e)^2))
                   + 0.054 |lambda3| K3_tilde + 0.037 e3(e) lambda3^2] / n
                + r_{1,n}(e),

    with e = ``eps_D``. It bounds, for X_1..X_n iid and centred with E X^4 < inf,

        sup_x | P(S_n <= x) - Phi(x) - lambda3 / (6 sqrt(n)) (1 - x^2) phi(x) |.

    Parameters
    ----------
    n : float
        Number of summands (>= 1).
    lambda3 : float
        Skewness E[X^3] / sigma^3 (the average lambda_{3,n} of [D] section 1).
    K3_tilde : float
        K3 + E|X| / sigma in the iid case; in general K_{3,n} + (1/n) sum E|X_i| sigma_i^2 /
        Bbar_n^3. Must be >= ``K3``.
    K3 : float
        E|X|^3 / sigma^3 (K_{3,n}).
    K4 : float
        E X^4 / sigma^4 (K_{4,n}), the kurtosis (not the excess kurtosis).
    eps_D : float, default 0.1
        The free parameter eps of [D] in (0, 1/3); every value gives a valid bound. 0.1 is the
        default of BoundEdgeworth and of the Edgeworth Accountant code.

    Returns
    -------
    float
        Delta_n. It is returned as computed, even when it is >= 1 (then it says nothing).

    Raises
    ------
    ValueError
        For non-finite or out-of-domain arguments, or K3_tilde < K3.

    Notes
    -----
    All moments are of the **centred** variables ([D] assumes E X_i = 0). The upper incomplete
    gamma Gamma(s, x) is ``scipy.special.gammaincc(s, x) * scipy.special.gamma(s)``. The
    theorem is for identically distributed summands; [D] Theorem A.2 (eq. (11), not
    implemented here) is the non-identically-distributed version and has different terms.
    For large n, Delta_n sqrt(n) -> 0.1995 K3_tilde.
    """
    return derumigny_delta_n_terms(n, lambda3, K3_tilde, K3, K4, eps_D)["total"]


class StandardisedMoments(NamedTuple):
    """Averaged standardised moments of [D] section 1 (see :func:`standardised_moments`)."""

    n: int
    lambda3: float
    K3: float
    K3_tilde: float
    K4: float


def standardised_moments(counts: ArrayLike, c2: ArrayLike, c3: ArrayLike, a1: ArrayLike,
                         a3: ArrayLike, c4: ArrayLike) -> StandardisedMoments:
    """Average per-step centred moments into the standardised moments of [D].

    For a schedule of distinct steps j, each repeated ``counts[j]`` times, with centred moments
    c2 = Var X, c3 = E(X-m)^3, a1 = E|X-m|, a3 = E|X-m|^3 and c4 = E(X-m)^4, this returns
    ([D] section 1, research/edgeworth.md sections 6.2 and 6.4)

        n         = sum_j counts_j
        B_n^2     = sum_i E X_i^2,            Bbar_n = B_n / sqrt(n)
        lambda3   = (1/n) sum_i E[X_i^3] / Bbar_n^3
        K_p       = (1/n) sum_i E|X_i|^p / Bbar_n^p           (p = 3, 4)
        K3_tilde  = K3 + (1/n) sum_i E|X_i| sigma_i^2 / Bbar_n^3.

    Parameters
    ----------
    counts : int or sequence of int
        Number of steps of each distinct kind (>= 0, total >= 1).
    c2, c3, a1, a3, c4 : float or sequence of float
        Per-kind centred moments (broadcast against ``counts``); c2 > 0.

    Returns
    -------
    StandardisedMoments
        ``(n, lambda3, K3, K3_tilde, K4)``.

    Notes
    -----
    With one distinct kind these are the iid quantities of :func:`derumigny_delta_n`
    (K3_tilde = K3 + E|X|/sigma). With several kinds they are [D]'s averaged (inid)
    quantities; [D] proves the iid formula only for identically distributed summands (its
    inid Theorem A.2 has other terms), so a caller combining them with
    :func:`derumigny_delta_n` must say so.
    """
    arrs = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float))
                                 for v in (counts, c2, c3, a1, a3, c4)))
    cnt, v2, v3, m1, m3, v4 = arrs
    names = ("counts", "c2", "c3", "a1", "a3", "c4")
    for name, arr in zip(names, arrs):
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a scalar or a 1-D sequence")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    if np.any(cnt < 0) or np.any(cnt != np.round(cnt)):
        raise ValueError("counts must be non-negative integers")
    if np.any(v2 <= 0):
        raise ValueError("c2 (variance) must be > 0")
    for name, arr in (("a1", m1), ("a3", m3), ("c4", v4)):
        if np.any(arr < 0):
            raise ValueError(f"{name} must be >= 0")
    n = float(cnt.sum())
    if n < 1:
        raise ValueError("counts must sum to at least 1")
    bbar2 = float(np.dot(cnt, v2)) / n
    bbar = math.sqrt(bbar2)
    bbar3 = bbar2 * bbar
    lam3 = float(np.dot(cnt, v3)) / n / bbar3
    K3 = float(np.dot(cnt, m3)) / n / bbar3
    K4 = float(np.dot(cnt, v4)) / n / bbar2 ** 2
    K3t = K3 + float(np.dot(cnt, m1 * v2)) / n / bbar3
    return StandardisedMoments(int(round(n)), lam3, K3, K3t, K4)


# ---------------------------------------------------------------------------------------------
# From Delta_X, Delta_Y to delta and eps intervals (research/edgeworth.md section 6.1)
# ---------------------------------------------------------------------------------------------

def _exp_times(eps: np.ndarray, x: np.ndarray) -> np.ndarray:
    """e^eps * x for x >= 0, as exp(eps + log x) (0 where x <= 0; may be +inf)."""
    out = np.zeros(np.broadcast(eps, x).shape)
    eps_b, x_b = np.broadcast_arrays(eps, x)
    pos = x_b > 0
    with np.errstate(over="ignore", under="ignore"):
        out[pos] = np.exp(eps_b[pos] + np.log(x_b[pos]))
    return out


def _interval_arrays(eps, S_X, S_Y, Delta_X, Delta_Y) -> Tuple[np.ndarray, np.ndarray]:
    e = np.asarray(eps, dtype=float)
    sx = np.asarray(S_X, dtype=float)
    sy = np.asarray(S_Y, dtype=float)
    dx = _finite_positive("Delta_X", Delta_X, allow_zero=True)
    dy = _finite_positive("Delta_Y", Delta_Y, allow_zero=True)
    for name, arr in (("eps", e), ("S_X", sx), ("S_Y", sy)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    with np.errstate(invalid="ignore"):
        upp = sy + dy - _exp_times(e, np.maximum(0.0, sx - dx))
        low = sy - dy - _exp_times(e, sx + dx)
    # delta(eps) is a probability difference in [0, 1]: clipping both ends keeps validity.
    return np.clip(low, 0.0, 1.0), np.clip(upp, 0.0, 1.0)


def edgeworth_delta_interval(eps: ArrayLike, S_X: ArrayLike, S_Y: ArrayLike, Delta_X: float,
                             Delta_Y: float) -> Tuple[ArrayLike, ArrayLike]:
    """Interval [delta_low, delta_upp] containing delta(eps), from Edgeworth survivals and bounds.

    With delta(eps) = P(Y > eps) - e^eps P(X > eps) (one ordering of the dominating pair) and
    |P(X > x) - S_X(x)| <= Delta_X, |P(Y > x) - S_Y(x)| <= Delta_Y for all x (e.g. Delta from
    :func:`derumigny_delta_n`), research/edgeworth.md section 6.1 gives

        delta_upp = min(1, S_Y + Delta_Y - e^eps max(0, S_X - Delta_X))
        delta_low = max(0, S_Y - Delta_Y - e^eps (S_X + Delta_X)).

    Both are further clipped to [0, 1] (delta(eps) is in [0, 1], so this keeps them valid).

    Parameters
    ----------
    eps : float or array
        Privacy parameter(s) epsilon.
    S_X, S_Y : float or array
        Order-1 Edgeworth survival values 1 - G_X(eps), 1 - G_Y(eps) of the composed PLLR
        under P and under Q (broadcast against ``eps``). They may lie outside [0, 1]: the
        expansion is not a distribution.
    Delta_X, Delta_Y : float
        Uniform bounds on |F - G| under P and under Q (>= 0).

    Returns
    -------
    (delta_low, delta_upp)
        Floats for scalar input, arrays otherwise.

    Notes
    -----
    e^eps x is evaluated as exp(eps + log x), so a huge e^eps never multiplies a rounded
    small number and overflow gives +inf (then delta_upp clips to 0, delta_low to 0).
    """
    low, upp = _interval_arrays(eps, S_X, S_Y, Delta_X, Delta_Y)
    if low.ndim == 0:
        return float(low), float(upp)
    return low, upp


@dataclass(frozen=True)
class EdgeworthBound:
    """delta(eps) from the order-1 Edgeworth expansion, with the bound of [D] around it.

    ``delta_estimate`` is the Edgeworth point estimate clipped to [0, 1] (never a guarantee);
    ``delta_low`` <= delta(eps) <= ``delta_upp`` hold whenever ``Delta_X`` / ``Delta_Y`` are
    valid. ``vacuous`` is True when ``delta_upp`` cannot certify anything: it is 1, or it is
    above the target delta given to :func:`edgeworth_delta_bound`. ``note`` says why in words.
    """

    delta_low: float
    delta_estimate: float
    delta_upp: float
    Delta_X: float
    Delta_Y: float
    vacuous: bool
    note: str = ""


def edgeworth_delta_bound(eps: float, S_X: float, S_Y: float, Delta_X: float, Delta_Y: float,
                          delta: Union[float, None] = None) -> EdgeworthBound:
    """Point estimate and interval for delta(eps), with an explicit vacuity flag.

    Parameters
    ----------
    eps, S_X, S_Y, Delta_X, Delta_Y : float
        As in :func:`edgeworth_delta_interval` (scalars).
    delta : float, optional
        Target delta. When given, the result is ``vacuous`` if ``delta_upp > delta`` (the
        bound cannot certify (eps, delta)).

    Returns
    -------
    EdgeworthBound
        See the class. The estimate is S_Y - e^eps S_X, assembled as
        S_Y (-expm1(eps + log S_X - log S_Y)) when both survivals are positive (DESIGN.md
        section 2, tails in log space), then clipped to [0, 1].
    """
    e = float(eps)
    low, upp = edgeworth_delta_interval(e, S_X, S_Y, Delta_X, Delta_Y)
    sx, sy = float(S_X), float(S_Y)
    if sx > 0 and sy > 0:
        est = sy * -math.expm1(min(e + math.log(sx) - math.log(sy), 700.0))
    else:
        est = sy - float(_exp_times(np.asarray(e), np.asarray(max(sx, 0.0))))
    est = min(1.0, max(0.0, est))
    dx, dy = float(Delta_X), float(Delta_Y)
    reasons = []
    if upp >= 1.0:
        reasons.append("delta_upp = 1: the bound says nothing")
    elif delta is not None and upp > float(delta):
        reasons.append(f"delta_upp = {upp:.3g} > target delta = {float(delta):.3g}")
    vacuous = bool(reasons)
    parts = list(reasons)
    if sx - dx <= 0:
        parts.append(f"Delta_X = {dx:.3g} >= S_X = {sx:.3g}: the e^eps P(X > eps) term is lost")
    if vacuous:
        edx = math.exp(min(e + math.log(dx), 700.0)) if dx > 0 else 0.0
        parts.append(f"e^eps Delta_X = {edx:.3g}, Delta_Y = {dy:.3g}; Delta_n >= 0.1995 "
                     "K3_tilde/sqrt(n) (research/edgeworth.md section 6.3)")
    note = "vacuous: " + "; ".join(parts) if vacuous else "; ".join(parts)
    return EdgeworthBound(delta_low=float(low), delta_estimate=float(est), delta_upp=float(upp),
                          Delta_X=dx, Delta_Y=dy, vacuous=vacuous, note=note)


def _evaluate(fn: Callable[[float], float], grid: np.ndarray, name: str) -> np.ndarray:
    """fn on the grid: one vectorised call if fn accepts arrays, else point by point."""
    vals = None
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(fn(grid), dtype=float)
        if out.shape == grid.shape:
            vals = out
    except Exception:  # noqa: BLE001 - scalar-only callables: fall back to a loop
        vals = None
    if vals is None:
        vals = np.array([float(fn(float(x))) for x in grid])
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"{name} returned a non-finite value on [0, eps_max]")
    return vals


def _last_crossing(g: Callable[[float], float], grid: np.ndarray, vals: np.ndarray,
                   keep_positive: bool) -> float:
    """Root of g in the cell after the last grid point with g > 0 (g(grid[-1]) <= 0).

    ``keep_positive`` chooses the side returned when rounding leaves the root on the wrong
    side: True returns a point with g >= 0 (a lower bound), False one with g <= 0.
    """
    pos = np.nonzero(vals > 0)[0]
    if pos.size == 0:
        return 0.0
    i = int(pos[-1])
    a, b = float(grid[i]), float(grid[i + 1])
    if vals[i + 1] == 0.0:
        return b
    try:
        r = optimize.brentq(g, a, b, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)
    except (ValueError, RuntimeError):  # scalar re-evaluation disagreed with the scan
        return a if keep_positive else b
    # At the root g is zero up to rounding: step away from it (doubling steps, from one ulp-ish
    # to the cell end) until g has the sign that keeps the end valid.
    step = 4 * np.finfo(float).eps * max(1.0, abs(r))
    x = r
    while True:
        gx = g(x)
        if (gx >= 0) if keep_positive else (gx <= 0):
            return x
        if (x <= a) if keep_positive else (x >= b):
            return a if keep_positive else b
        x = max(a, r - step) if keep_positive else min(b, r + step)
        step *= 2.0


def epsilon_interval(delta: float, S_X_fn: Callable[[float], float],
                     S_Y_fn: Callable[[float], float], Delta_X: float, Delta_Y: float,
                     eps_max: float, n_grid: int = 2049) -> Tuple[float, float, bool]:
    """Interval for eps(delta) from the delta interval of research/edgeworth.md section 6.1.

    ``eps_upp = inf{eps : delta_upp(eps') <= delta for all eps' in [eps, eps_max]}`` and
    ``eps_low = sup{eps : delta_low(eps) > delta}`` (0.0 if delta_low <= delta on the whole
    range). Both come from a vectorised scan of [0, eps_max] followed by
    :func:`scipy.optimize.brentq` in the cell of the last crossing (never ``fsolve``).

    Parameters
    ----------
    delta : float
        Target delta in (0, 1).
    S_X_fn, S_Y_fn : callable
        eps -> order-1 Edgeworth survival 1 - G(eps) under P and under Q. Called once with the
        whole grid if they accept arrays (output of the grid's shape), else point by point.
    Delta_X, Delta_Y : float
        Uniform bounds on |F - G| under P and under Q.
    eps_max : float
        Upper end of the search range (> 0).
    n_grid : int, default 2049
        Number of scan points. A sub-grid excursion can be missed; the returned eps_upp is
        nevertheless always a point where delta_upp <= delta was checked, and eps_low a point
        where delta_low >= delta, so both stay valid.

    Returns
    -------
    (eps_low, eps_upp, vacuous)
        ``vacuous`` is True and ``eps_upp`` is ``math.inf`` when delta_upp(eps_max) > delta
        (no eps in range is certified). If delta_low(eps_max) > delta, eps_low = eps_max (the
        true eps exceeds the range).

    Notes
    -----
    Given valid Delta_X, Delta_Y, (eps_upp, delta) is a valid DP guarantee (delta(eps) is
    non-increasing, so delta_upp(eps_upp) <= delta suffices) and eps_low <= eps(delta).
    """
    d = float(delta)
    if not (0.0 < d < 1.0):
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    emax = _finite_positive("eps_max", eps_max)
    if int(n_grid) < 2:
        raise ValueError(f"n_grid must be >= 2, got {n_grid!r}")
    dx = _finite_positive("Delta_X", Delta_X, allow_zero=True)
    dy = _finite_positive("Delta_Y", Delta_Y, allow_zero=True)

    grid = np.linspace(0.0, emax, int(n_grid))
    sx = _evaluate(S_X_fn, grid, "S_X_fn")
    sy = _evaluate(S_Y_fn, grid, "S_Y_fn")
    low, upp = _interval_arrays(grid, sx, sy, dx, dy)

    def g_upp(e: float) -> float:
        return float(_interval_arrays(e, float(S_X_fn(e)), float(S_Y_fn(e)), dx, dy)[1]) - d

    def g_low(e: float) -> float:
        return float(_interval_arrays(e, float(S_X_fn(e)), float(S_Y_fn(e)), dx, dy)[0]) - d

    if low[-1] > d:
        eps_low = emax
    else:
        eps_low = _last_crossing(g_low, grid, low - d, keep_positive=True)
    if upp[-1] > d:
        return eps_low, math.inf, True
    eps_upp = _last_crossing(g_upp, grid, upp - d, keep_positive=False)
    return eps_low, eps_upp, False
