"""Functional API (DESIGN.md section 5): one call per question, floats out."""
from __future__ import annotations

from . import _validation as v
from ._epsgrid import on_eps_grid
from .mechanisms import PoissonGaussian
from .methods import DEFAULT_METHOD, make_accountant
from .results import EpsilonResult


def _accountant(sample_rate, noise_multiplier, steps, method, options):
    m = PoissonGaussian(sample_rate=sample_rate, noise_multiplier=noise_multiplier)
    n = v.count("steps", steps)
    return make_accountant(method, **options).compose(m, n)


def epsilon(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
            method: str = DEFAULT_METHOD, **options) -> float:
    """epsilon at ``delta`` after ``steps`` DP-SGD steps (Poisson rate ``sample_rate``).

    ``method`` defaults to "certified" (a valid upper bound, about 0.5% above the truth);
    the others are listed in ``ewaccount.METHODS`` with their options (e.g. "edgeworth":
    ``order``, ``ordering``). Each accountant's ``kind`` says whether its number is a
    guarantee ("upper") or not ("estimate").

    >>> import ewaccount as ew
    >>> round(ew.epsilon(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5,
    ...                  method="edgeworth", order=1, ordering="pq"), 5)
    1.89478
    """
    d = v.delta(delta)
    return _accountant(sample_rate, noise_multiplier, steps, method, options).get_epsilon(d)


def delta(*, sample_rate: float, noise_multiplier: float, steps: int, epsilon: float,
          method: str = DEFAULT_METHOD, **options) -> float:
    """delta at ``epsilon`` after ``steps`` DP-SGD steps (see :func:`epsilon`)."""
    e = v.epsilon(epsilon)
    return _accountant(sample_rate, noise_multiplier, steps, method, options).get_delta(e)


def epsilon_bounds(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
                   rtol: float = 0.005) -> EpsilonResult:
    """A bracket on the true epsilon from ewaccount's own engine, like prv_accountant's
    (lower, estimate, upper):

    - ``upper``: the certified upper bound (``value``, ``kind="upper"``, its ``route``:
      "composed PLD" or "RDP fallback");
    - ``lower``: a certified lower bound (the rounded-down discretisation composed without
      wrap-around), or None where none is available (never 0 in its place);
    - ``estimate``: the saddle-point estimate (Lugannani-Rice on the tilted PLLR sum).

    The note says which method produced each number.
    """
    from . import certified
    from .accountants import SaddlePointAccountant

    d = v.delta(delta)
    acc = _accountant(sample_rate, noise_multiplier, steps, "certified", {"rtol": rtol})
    upper = certified.epsilon_upper(acc.segments(), d, acc.rtol, acc.ordering)
    upper.value = on_eps_grid(upper.value, True)      # as the accountants report it
    lower = certified.epsilon_lower(acc.segments(), d, acc.rtol, acc.ordering, upper=upper)
    lower = on_eps_grid(lower) if lower is not None else None
    saddle = acc._with_my_ledger(SaddlePointAccountant())
    saddle._flags = []  # its warnings go into the note (not warnings.catch_warnings: threads)
    estimate = saddle.get_epsilon(d)
    note = (f"upper: certified ({upper.route}); lower: "
            + ("certified round-down discretisation" if lower is not None else "not available")
            + "; estimate: saddle point"
            + (" (flagged: " + str(saddle._flags[-1]) + ")" if saddle._flags else ""))
    lo = lower if lower is not None else 0.0
    if not lo <= estimate <= upper.value:  # outside the certified bracket: known to be wrong
        estimate = min(max(estimate, lo), upper.value)
        note += "; the saddle point fell outside the certified bracket and was moved to its edge"
    return EpsilonResult(value=upper.value, kind="upper", method="certified", delta=d, route=upper.route,
                         note=note, lower=lower, estimate=estimate, upper=upper.value)
