"""Inversions: the noise multiplier for a target (eps, delta).

The answer is one-sided: the returned sigma satisfies eps(sigma) <= target under the
chosen method, never above it (bisection keeps the upper end of a bracket on which eps
crosses the target).
"""
from __future__ import annotations

import math
import warnings

from . import _validation as v
from .mechanisms import PoissonGaussian
from .methods import make_accountant

SIGMA_MIN, SIGMA_MAX = 1e-2, 1e6
_REL_TOL = 1e-9
_MAX_PROBES = 200


def calibrate_noise(*, target_epsilon: float, delta: float, sample_rate: float, steps: int,
                    method=None, **options) -> float:
    """Smallest noise multiplier sigma (to relative 1e-9) with eps(sigma) <= target_epsilon.

    Bracketing in log sigma, then bisection with false-position steps (Illinois); the
    upper end of the bracket (eps <= target) is returned, so the target is never exceeded
    under ``method``. For an estimate method (e.g. "edgeworth") that is the method's own
    eps, not a guarantee.

    Raises ``ValueError`` if even sigma = 1e6 cannot reach ``target_epsilon``.
    """
    target = v.real("target_epsilon", target_epsilon, low=0.0, low_open=True)
    d = v.delta(delta)
    q = v.sample_rate(sample_rate)
    t = v.count("steps", steps)
    make_accountant(method, **options)  # validate method and options before any work

    def excess(log_sigma: float) -> float:
        acc = make_accountant(method, **options)
        acc.compose(PoissonGaussian(sample_rate=q, noise_multiplier=math.exp(log_sigma)), t)
        return acc.get_epsilon(d) - target

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lo, hi = math.log(1.0), math.log(1.0)
        f0 = excess(lo)
        if f0 > 0:  # too little noise: grow until eps <= target
            flo = f0
            hi, fhi = lo, f0
            while fhi > 0:
                lo, flo = hi, fhi
                if hi >= math.log(SIGMA_MAX):
                    raise ValueError(f"target_epsilon={target_epsilon!r} is not reached even with "
                                     f"noise_multiplier={SIGMA_MAX:g}")
                hi = min(hi + math.log(4.0), math.log(SIGMA_MAX))
                fhi = excess(hi)
        else:  # shrink until eps > target
            fhi = f0
            lo, flo = hi, f0
            while flo <= 0:
                hi, fhi = lo, flo
                if lo <= math.log(SIGMA_MIN):
                    return SIGMA_MIN
                lo = max(lo - math.log(4.0), math.log(SIGMA_MIN))
                flo = excess(lo)
        side = 0
        for _ in range(_MAX_PROBES):
            if hi - lo <= _REL_TOL:
                break
            x = hi - fhi * (hi - lo) / (fhi - flo)  # false position between flo > 0 >= fhi
            if not (lo < x < hi) or not math.isfinite(x):
                x = 0.5 * (lo + hi)
            fx = excess(x)
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
    if caught:
        warnings.warn(caught[-1].message, stacklevel=2)
    return math.exp(hi)
