"""The moments accountant of Abadi et al. 2016 (CCS, "Deep learning with differential
privacy", section 3.2), from the PLLR's CGF.

Pure functions of numbers; a ledger is a sequence of segments ``(q, mu, n)`` (sample
rate, mu = 1/sigma, steps), as in :mod:`ewaccount.rdp`.

The log-moment of order lambda of one step is the CGF of the privacy loss under the
neighbouring pair, alpha(lambda) = log E[(dQ/dP)^lambda] under Q, i.e. K(lambda + 1) with
K(t) = log E_P[e^{tL}] (DESIGN.md section 1); add/remove adjacency takes the max over both
orderings, max(K(lambda + 1), K(-lambda)). Log-moments add under composition (Abadi et
al. 2016, Thm. 2(1)) and the tail bound (Thm. 2(2)) gives

    epsilon(delta) = min_lambda (sum_i n_i alpha_i(lambda) + log(1/delta)) / lambda
    delta(epsilon) = min_lambda exp(sum_i n_i alpha_i(lambda) - lambda epsilon)

over the integer orders lambda = 1 ... 32 (the paper's "lambda <= 32"). This is the
definition DESIGN.md section 2 fixes ("TF-Privacy's classic conversion" is this tail
bound). In RDP terms it is Mironov 2017, Prop. 3 at orders alpha = lambda + 1, a weaker
conversion on fewer orders than :mod:`ewaccount.rdp`, so it is never below the RDP
epsilon: the historical row of a comparison.

The log-moments are exact (closed form at integer orders for K(lambda + 1), quadrature
for K(-lambda)) and carry the same rigour margin as :mod:`ewaccount.rdp`; the result is
an upper bound ("upper").

Examples
--------
>>> r = epsilon([(0.01, 1.0, 1000)], 1e-5)
>>> round(r.value, 4), r.order
(2.5383, 7.0)
"""
from __future__ import annotations

import math

import numpy as np

from . import _validation as v
from .rdp import OrderResult, RDPCurve, minimise_over_orders

#: The moments accountant's orders lambda = 1 ... 32 (Abadi et al. 2016, section 3.2).
LAMBDAS: tuple = tuple(range(1, 33))
_ALPHAS = np.array(LAMBDAS, dtype=float) + 1.0


def log_moments(segments, lambdas=LAMBDAS, ordering: str = "max", rigorous: bool = True) -> np.ndarray:
    """sum_i n_i alpha_i(lambda) at each integer order lambda >= 1 (max over orderings).

    >>> float(log_moments([(1.0, 0.5, 4)], [1], rigorous=False)[0])  # n lam (lam + 1) mu^2 / 2
    1.0
    """
    lam = np.asarray(lambdas, dtype=float).ravel()
    if lam.size == 0 or np.any(lam < 1) or np.any(lam != np.round(lam)):
        raise ValueError(f"lambdas must be integers >= 1, got {lambdas!r}")
    return RDPCurve(segments, ordering, rigorous).cgf(lam + 1.0)


def _eps_offset(log_delta: float):
    return lambda a: -log_delta / (a - 1.0)


def epsilon(segments, delta: float, ordering: str = "max", rigorous: bool = True,
            curve: RDPCurve | None = None) -> OrderResult:
    """epsilon = min_lambda (sum n_i alpha_i(lambda) + log(1/delta)) / lambda (Abadi et al.
    2016, Thm. 2). Returns (epsilon, the optimal lambda).

    Parameters
    ----------
    segments : iterable of (q, mu, n)
    delta : float in (0, 1)
    ordering : {"max", "pq", "qp"}
    rigorous : bool
        Apply :mod:`ewaccount.rdp`'s CGF margin (default True).
    curve : RDPCurve, optional
        A curve to reuse (``segments`` is ignored then).
    """
    d = v.delta(delta)
    curve = curve if curve is not None else RDPCurve(segments, ordering, rigorous)
    res = minimise_over_orders(curve, _ALPHAS, np.ones_like, _eps_offset(math.log(d)), refine=False)
    return OrderResult(max(0.0, res.value), res.order - 1.0)


def delta(segments, epsilon: float, ordering: str = "max", rigorous: bool = True,
          curve: RDPCurve | None = None) -> OrderResult:
    """delta = min(1, min_lambda exp(sum n_i alpha_i(lambda) - lambda epsilon)) (Abadi et
    al. 2016, Thm. 2). Returns (delta, the optimal lambda)."""
    e = v.epsilon(epsilon)
    curve = curve if curve is not None else RDPCurve(segments, ordering, rigorous)
    res = minimise_over_orders(curve, _ALPHAS, lambda a: a - 1.0, lambda a: -(a - 1.0) * e,
                               refine=False)
    if res.value >= 0.0:
        return OrderResult(1.0, math.nan)
    return OrderResult(math.exp(res.value), res.order - 1.0)
