"""Inversions: the noise multiplier for a target (eps, delta).

The answer is one-sided: the returned sigma satisfies eps(sigma) <= target under the
chosen method, never above it (the search keeps the upper end of a bracket on which eps
crosses the target, and returns only a sigma whose eps it has computed).
"""
from __future__ import annotations

import math
import warnings

from . import _validation as v
from . import certified
from .mechanisms import PoissonGaussian
from .methods import DEFAULT_METHOD, make_accountant

SIGMA_MIN, SIGMA_MAX = 1e-2, 1e6
_REL_TOL = 1e-9          # estimate methods: sigma to relative 1e-9
_CERT_LOG_TOL = 3e-3     # certified: stop once a probe's eps is within 0.3% below the target
_CERT_AIM = 1.5e-3       # ... aiming at the middle of that band
_CERT_PROBES = 8
_CERT_MAX_STEP = math.log(4.0)   # at most a factor 4 in sigma per certified probe
_MAX_PROBES = 200


def calibrate_noise(*, target_epsilon: float, delta: float, sample_rate: float, steps: int,
                    method: str = DEFAULT_METHOD, **options) -> float:
    """Smallest noise multiplier sigma with eps(sigma) <= target_epsilon under ``method``
    (default "certified": the returned sigma is then guaranteed to give (target, delta)-DP).

    For the closed-form methods: bracketing in log sigma, then false position (Illinois)
    on log eps, to relative 1e-9. For an estimate method (e.g. "edgeworth") the target
    holds for the method's own eps, which is not a guarantee. "certified" starts from a
    saddle-point steering sigma and needs one to three certified probes
    (:func:`_certified_search`); its sigma is within ~0.5% of the sigma at which the true
    eps is the target.

    Raises ``ValueError`` if even sigma = 1e6 cannot reach ``target_epsilon``.
    """
    flags: list = []
    sigma = noise_multiplier_for(target_epsilon, delta, sample_rate, steps, method, options, flags)
    if flags:
        warnings.warn(flags[-1], stacklevel=2)
    return sigma


def noise_multiplier_for(target_epsilon, delta, sample_rate, steps, method, options: dict,
                         flags: list) -> float:
    """:func:`calibrate_noise` with the probes' warnings collected in ``flags`` instead of
    issued (thread-safe, unlike warnings.catch_warnings; ``compare_noise`` puts them in
    its notes)."""
    target = v.real("target_epsilon", target_epsilon, low=0.0, low_open=True)
    d = v.delta(delta)
    q = v.sample_rate(sample_rate)
    t = v.count("steps", steps)
    make_accountant(method, **options)  # validate method and options before any work

    def log_excess(m: str, opts: dict):
        def f(log_sigma: float) -> float:
            acc = make_accountant(m, **opts)
            acc._flags = flags
            acc.compose(PoissonGaussian(sample_rate=q, noise_multiplier=math.exp(log_sigma)), t)
            eps = acc.get_epsilon(d)
            gap = math.log(max(eps, 1e-300)) - math.log(target)
            # the side is decided by eps <= target exactly, not by the rounded logarithms
            return min(gap, 0.0) if eps <= target else max(gap, 1e-300)
        return f

    if method in (None, "certified"):
        start = _certified_start(q, t, d, target, options.get("ordering", "max"))
        found = _certified_search(log_excess("certified", options), *start)
        sigma = found if found is not None else _search(log_excess("certified", options),
                                                       start[0], _REL_TOL, target)
    else:
        sigma = _search(log_excess(method, options), 0.0, _REL_TOL, target)
    return math.exp(sigma)


def _search(f, x0: float, rel_tol: float, target: float) -> float:
    """log sigma with f(log sigma) <= 0 at the upper end of a bracket narrower than
    rel_tol: bracket by steps of log 4 from x0, then Illinois false position."""
    lo = hi = x0
    f0 = f(x0)
    if f0 > 0:  # too little noise: grow until eps <= target
        flo, fhi = f0, f0
        while fhi > 0:
            lo, flo = hi, fhi
            if hi >= math.log(SIGMA_MAX):
                raise ValueError(f"target_epsilon={target!r} is not reached even with "
                                 f"noise_multiplier={SIGMA_MAX:g}")
            hi = min(hi + math.log(4.0), math.log(SIGMA_MAX))
            fhi = f(hi)
    else:  # shrink until eps > target
        flo, fhi = f0, f0
        while flo <= 0:
            hi, fhi = lo, flo
            if lo <= math.log(SIGMA_MIN):
                return math.log(SIGMA_MIN)
            lo = max(lo - math.log(4.0), math.log(SIGMA_MIN))
            flo = f(lo)
    side = 0
    for _ in range(_MAX_PROBES):
        if hi - lo <= rel_tol:
            break
        x = hi - fhi * (hi - lo) / (fhi - flo)  # false position between flo > 0 >= fhi
        if not (lo < x < hi) or not math.isfinite(x):
            x = 0.5 * (lo + hi)
        fx = f(x)
        if fx > 0:
            lo, flo = x, fx
            if side == -1:
                fhi *= 0.5
            side = -1
        else:
            hi, fhi = x, fx
            if side == 1:
                flo *= 0.5
            side = 1
    return hi


def _certified_start(q: float, t: int, d: float, target: float, ordering: str) -> tuple[float, float]:
    """(log sigma, slope) to start the certified probes from: the certified accountant's
    own saddle-point steering (about 0.1 ms per sigma; within ~1% of the truth's sigma
    where the PLLR sum is far from lattice, q T >= 5, a rougher start below), slope =
    -d log eps / d log sigma; (0, 2) when it cannot be found. Steering only: the
    probes decide."""
    found = certified.steer_log_sigma(q, t, d, target, ordering)
    return found if found is not None else (0.0, 2.0)


def _certified_search(f, x0: float, slope: float):
    """A few certified probes of f = log eps_certified - log target on x = log sigma, from
    the steering x0 and slope s = -df/dx: Newton steps aiming _CERT_AIM below the target
    (at most a factor 4 in sigma, inside [SIGMA_MIN, SIGMA_MAX]), secant slopes once two
    probes exist, kept inside the bracket [f > 0, f <= 0] once one exists (false position
    there). Returns the first probed log sigma whose certified eps
    is within _CERT_LOG_TOL below the target; after _CERT_PROBES, the smallest probed one
    below the target, or None (the caller then runs the general search). Every probe is a
    full certified query: what ``ew.epsilon`` returns there."""
    xmin, xmax = math.log(SIGMA_MIN), math.log(SIGMA_MAX)
    x, lo, hi, prev = min(max(x0 + _CERT_AIM / slope, xmin), xmax), None, None, None
    for _ in range(_CERT_PROBES):
        fx = f(x)
        if fx <= 0:
            if -_CERT_LOG_TOL <= fx:
                return x
            if hi is None or x < hi[0]:
                hi = (x, fx)
        elif lo is None or x > lo[0]:
            lo = (x, fx)
        s = slope
        if prev is not None and x != prev[0]:
            sec = -(fx - prev[1]) / (x - prev[0])
            s = sec if sec > 0 else slope
        prev = (x, fx)
        step = min(max((fx + _CERT_AIM) / s, -_CERT_MAX_STEP), _CERT_MAX_STEP)
        nx = min(max(x + step, xmin), xmax)
        if lo is not None and hi is not None and not lo[0] < nx < hi[0]:
            nx = hi[0] - (hi[1] + _CERT_AIM) * (hi[0] - lo[0]) / (hi[1] - lo[1])
        if nx == x:                          # at a bound of the sigma range
            break
        x = nx
    return hi[0] if hi is not None else None
