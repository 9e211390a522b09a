"""Functional API (DESIGN.md section 5): one call per question, floats out."""
from __future__ import annotations

from . import _validation as v
from .mechanisms import PoissonGaussian
from .methods import make_accountant


def _accountant(sample_rate, noise_multiplier, steps, method, options):
    m = PoissonGaussian(sample_rate=sample_rate, noise_multiplier=noise_multiplier)
    n = v.count("steps", steps)
    return make_accountant(method, **options).compose(m, n)


def epsilon(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
            method=None, **options) -> float:
    """epsilon at ``delta`` after ``steps`` DP-SGD steps (Poisson rate ``sample_rate``).

    ``method`` is required for now ("edgeworth"; options ``order``, ``ordering``). The
    method's ``kind`` says whether the number is a guarantee; see :func:`methods`.

    >>> import ewaccount as ew
    >>> round(ew.epsilon(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5,
    ...                  method="edgeworth", order=1, ordering="pq"), 5)
    1.89478
    """
    d = v.delta(delta)
    return _accountant(sample_rate, noise_multiplier, steps, method, options).get_epsilon(d)


def delta(*, sample_rate: float, noise_multiplier: float, steps: int, epsilon: float,
          method=None, **options) -> float:
    """delta at ``epsilon`` after ``steps`` DP-SGD steps (see :func:`epsilon`)."""
    e = v.epsilon(epsilon)
    return _accountant(sample_rate, noise_multiplier, steps, method, options).get_delta(e)
