"""Gaussian differential privacy by the central limit theorem (Bu, Dong, Long & Su 2020,
"Deep learning with Gaussian differential privacy", Harvard Data Science Review).

Pure functions of numbers; a ledger is a sequence of segments ``(q, mu, n)`` (sample
rate, mu = 1/sigma, steps), as in :mod:`ewaccount.rdp`.

T steps of Poisson-subsampled DP-SGD are asymptotically mu_GDP-GDP with (Bu et al. 2020,
section 3, the CLT for Poisson subsampling, from the composition CLT of Dong, Roth & Su
2022, section 3.2)

    mu_GDP = q sqrt(T (e^{1/sigma^2} - 1)),

and, since mu-GDP composes as the root sum of squares (Dong, Roth & Su 2022, Cor. 3.3),
a heterogeneous ledger gives mu_GDP^2 = sum_i n_i q_i^2 (e^{1/sigma_i^2} - 1). Without
subsampling (q = 1) there is no limit to take: n Gaussian steps are exactly
(sqrt(n)/sigma)-GDP, and that exact value is used.

The (epsilon, delta) curve of mu-GDP is exact (Dong, Roth & Su 2022, Cor. 2.13):

    delta(epsilon) = Phi(-epsilon/mu + mu/2) - e^epsilon Phi(-epsilon/mu - mu/2),

evaluated here in log space, log Phi(a) + log(-expm1(epsilon + log Phi(b) - log Phi(a)))
with scipy's ``log_ndtr``, so tiny deltas keep their relative accuracy; epsilon(delta) is
its inverse by a bracketing root finder (Brent) on log delta.

The CLT is an approximation with no error direction: it can be far **below** the truth
at small T or q (research/peers.md section 2.1: -36% at T = 100). ``kind = "estimate"``.

Examples
--------
>>> m = mu_ledger([(0.01, 1.0, 1000)])
>>> round(m, 6), round(epsilon(1e-5, m), 3)    # the reference grid's gdp_clt: 1.618
(0.414522, 1.618)
"""
from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.special import log_ndtr

from . import _validation as v
from ._epsgrid import on_eps_grid


def mu_clt(sample_rate: float, noise_multiplier: float, steps: int) -> float:
    """mu_GDP = q sqrt(T (e^{1/sigma^2} - 1)) of T Poisson-subsampled Gaussian steps
    (Bu et al. 2020, section 3); q = 1 gives the exact sqrt(T)/sigma.

    >>> round(mu_clt(0.01, 1.0, 1000), 6)
    0.414522
    """
    q = v.sample_rate(sample_rate)
    s = v.noise_multiplier(noise_multiplier)
    t = v.count("steps", steps)
    return mu_ledger([(q, 1.0 / s, t)])


def mu_ledger(segments) -> float:
    """mu_GDP of a ledger of segments (q, mu = 1/sigma, n):
    sqrt(sum_i n_i q_i^2 (e^{mu_i^2} - 1)), with n_i mu_i^2 for q_i = 1 (exact)."""
    total = 0.0
    empty = True
    for q, mu, n in segments:
        q = v.sample_rate(q)
        mu = v.real("mu", mu, low=0.0, low_open=True)
        n = v.count("count", n)
        empty = False
        total += n * (mu * mu if q >= 1.0 else q * q * math.expm1(mu * mu) if mu * mu < 709.0
                      else math.inf)
    if empty:
        raise ValueError("segments must not be empty")
    return math.sqrt(total)


def _check_mu(mu) -> float:
    """mu >= 0; 0 (e.g. q^2 underflowing to 0) is perfect privacy: delta = 0, epsilon = 0."""
    return v.real("mu", mu, low=0.0, allow_inf=True)


def log_delta(epsilon: float, mu: float) -> float:
    """log delta(epsilon) of mu-GDP, in log space (module docstring)."""
    e = v.epsilon(epsilon)
    m = _check_mu(mu)
    if math.isinf(m):
        return 0.0
    if m == 0.0:
        return -math.inf
    a = -e / m + 0.5 * m
    b = -e / m - 0.5 * m
    la = float(log_ndtr(a))
    if la == -math.inf:  # huge eps / mu: both terms underflow (no inf - inf below)
        return -math.inf
    x = e + float(log_ndtr(b)) - la
    if x >= 0.0:  # only by rounding when delta underflows
        return -math.inf
    return la + math.log(-math.expm1(x))


def delta(epsilon: float, mu: float) -> float:
    """delta(epsilon) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2) of mu-GDP, read at
    eps on the grid of :func:`on_eps_grid` (non-increasing to the last ulp).

    >>> round(delta(0.0, 1.0), 6)     # 2 Phi(1/2) - 1
    0.382925
    """
    return math.exp(log_delta(on_eps_grid(v.epsilon(epsilon)), mu))


def epsilon(delta: float, mu: float) -> float:
    """The smallest epsilon >= 0 with delta(epsilon) <= delta for mu-GDP (Brent's method on
    log delta over a bracket grown by doubling; +inf for mu = inf).

    >>> round(epsilon(1e-5, 1.0), 6)
    4.377178
    """
    d = v.delta(delta)
    m = _check_mu(mu)
    if math.isinf(m):
        return math.inf
    target = math.log(d)
    if log_delta(0.0, m) <= target:
        return 0.0
    hi = 0.5 * m * m + m * math.sqrt(2.0 * -target) + 1.0
    for _ in range(200):
        if log_delta(hi, m) < target:
            break
        hi *= 2.0
    else:  # pragma: no cover - log delta decreases without bound
        return math.inf
    # relative tolerance only: an absolute one (was 1e-14) quantises a tiny eps (5e-15 steps)
    root = brentq(lambda e: log_delta(e, m) - target, 0.0, hi, xtol=1e-300, rtol=1e-15,
                  maxiter=500)
    e = on_eps_grid(root, True)        # delta() reads eps on the grid: the next grid point
    for _ in range(8):                 # at which delta <= the target (rounding: a step or two)
        if log_delta(e, m) <= target:
            break
        e = on_eps_grid(math.nextafter(e, math.inf), True)
    return e
