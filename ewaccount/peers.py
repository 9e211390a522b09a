"""Peer accountants through optional libraries, behind the same ledger interface:
``"pld"`` (Google dp_accounting's privacy-loss-distribution accountant) and ``"prv"``
(Microsoft prv_accountant). Install them with ``pip install 'ewaccount[compare]'``.

The libraries are imported lazily, when an accountant is built; a missing one raises an
``ImportError`` that names the extra. They are slow (0.1 s to minutes, growing with T and
with the number of distinct steps: research/peers.md section 2), which is why
:func:`ewaccount.compare` runs them in a time-boxed worker process (:func:`run_worker`).

Both are upper bounds (``kind == "upper"``):

- "pld": dp_accounting ``PLDAccountant`` with its defaults -- pessimistic connect-the-dots
  discretisation (``pessimistic_estimate=True``), add/remove adjacency (max of both
  orderings), ``value_discretization_interval`` 1e-4. It returns inf at tiny delta
  (research/peers.md section 2.2).
- "prv": prv_accountant ``PRVAccountant``; the reported value is the upper end of its
  certified interval (lower and estimate are kept in ``get_epsilon_result``), with
  ``eps_error`` 0.01 and ``delta_error`` delta/1000 (Opacus's choices). It accounts the
  single ordering N(0, 1) vs the mixture ("pq"), the dominating one for DP-SGD.
"""
from __future__ import annotations

import importlib
import json
import math
import sys
import time
from typing import Any

from . import _validation as v
from .accountants import Accountant
from .results import EpsilonResult

EXTRA = "pip install 'ewaccount[compare]'"

#: method -> (import name, distribution name)
PACKAGES = {"pld": ("dp_accounting", "dp-accounting"), "prv": ("prv_accountant", "prv-accountant")}


def require(method: str):
    """Import the library behind a peer method, or raise a clear ImportError."""
    module, dist = PACKAGES[method]
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"method {method!r} needs the optional package {dist} ({err}); "
                          f"install it with: {EXTRA}") from None


def available(method: str) -> bool:
    """Whether the library behind a peer method can be imported (without importing it)."""
    import importlib.util
    return importlib.util.find_spec(PACKAGES[method][0]) is not None


class PLDAccountant(Accountant):
    """dp_accounting's PLD accountant (pessimistic, add/remove adjacency): an upper bound.

    Parameters
    ----------
    value_discretization_interval : float
        dp_accounting's grid step of the privacy loss (default 1e-4; smaller is tighter
        and slower).
    """

    method = "pld"
    kind = "upper"
    eps_grid = False      # the library's own numbers, as it gives them

    def __init__(self, value_discretization_interval: float = 1e-4) -> None:
        super().__init__()
        self.value_discretization_interval = v.real(
            "value_discretization_interval", value_discretization_interval, low=0.0, low_open=True)
        require("pld")

    def _options(self) -> dict:
        return {"value_discretization_interval": self.value_discretization_interval}

    def _peer(self):
        if "peer" not in self._cache:
            dpa = require("pld")
            acc = dpa.pld.PLDAccountant(
                neighboring_relation=dpa.NeighboringRelation.ADD_OR_REMOVE_ONE,
                value_discretization_interval=self.value_discretization_interval)
            for m, n in self._ledger.items():
                gauss = dpa.GaussianDpEvent(m.noise_multiplier)
                q = m.sample_rate
                acc.compose(gauss if q >= 1.0 else dpa.PoissonSampledDpEvent(q, gauss), n)
            self._cache["peer"] = acc
        return self._cache["peer"]

    def _epsilon(self, delta: float) -> float:
        return float(self._peer().get_epsilon(delta))

    def _delta(self, epsilon: float) -> float:
        return float(self._peer().get_delta(epsilon))

    def _route(self) -> str:
        return "dp_accounting PLD (pessimistic, connect-the-dots)"

    def _note(self) -> str:
        return (f"upper bound: dp_accounting PLD, discretisation "
                f"{self.value_discretization_interval:g}, add/remove")


class PRVAccountant(Accountant):
    """prv_accountant's PRV accountant; the value is the upper end of its interval.

    Parameters
    ----------
    eps_error : float
        Allowed error in epsilon (default 0.01, as Opacus).
    delta_error : float, optional
        Allowed error in delta (default delta/1000 for epsilon queries, 1e-10 for delta
        queries).
    """

    method = "prv"
    kind = "upper"
    eps_grid = False

    def __init__(self, eps_error: float = 0.01, delta_error: float | None = None) -> None:
        super().__init__()
        self.eps_error = v.real("eps_error", eps_error, low=0.0, low_open=True)
        self.delta_error = None if delta_error is None else v.delta(delta_error, "delta_error")
        require("prv")

    def _options(self) -> dict:
        return {"eps_error": self.eps_error, "delta_error": self.delta_error}

    def _peer(self, delta_error: float):
        prv = require("prv")
        mechs = prv.privacy_random_variables
        prvs, counts = [], []
        for m, n in self._ledger.items():
            q = m.sample_rate
            prvs.append(mechs.GaussianMechanism(noise_multiplier=m.noise_multiplier) if q >= 1.0
                        else mechs.PoissonSubsampledGaussianMechanism(
                            sampling_probability=q, noise_multiplier=m.noise_multiplier))
            counts.append(n)
        acc = prv.PRVAccountant(prvs=prvs, max_self_compositions=counts,
                                eps_error=self.eps_error, delta_error=delta_error)
        return acc, counts

    def _epsilon(self, delta: float) -> float:
        acc, counts = self._peer(self.delta_error or delta / 1000.0)
        lo, est, hi = acc.compute_epsilon(delta=delta, num_self_compositions=counts)
        self._cache["last"] = (float(lo), float(est), float(hi))
        return max(0.0, float(hi))

    def _delta(self, epsilon: float) -> float:
        acc, counts = self._peer(self.delta_error or 1e-10)
        lo, est, hi = acc.compute_delta(epsilon=epsilon, num_self_compositions=counts)
        return min(1.0, max(0.0, float(hi)))

    def get_epsilon_result(self, delta: float) -> EpsilonResult:
        value = self.get_epsilon(delta)
        lo, est, _ = self._cache.get("last", (None, None, None)) if self._ledger else (0.0, 0.0, 0.0)
        return EpsilonResult(value=value, kind=self.kind, method=self.method, delta=float(delta),
                             route=self._route(), note=self._note(), upper=value,
                             lower=None if lo is None else max(0.0, lo), estimate=est)

    def _route(self) -> str:
        return "prv_accountant PRV (upper end of its interval)"

    def _note(self) -> str:
        return f"upper bound: prv_accountant, eps_error {self.eps_error:g}, ordering pq"


# ---------------------------------------------------------------------------------------
# the worker that ewaccount.compare runs in a child process (time box = kill the child)


def _calibrate(method: str, options: dict, target: float, delta: float, q: float, steps: int,
               rtol: float = 1e-3) -> float:
    """The smallest sigma (to relative ``rtol``) with eps(sigma) <= target under a slow
    peer: bracket in log sigma by doubling, then bisect; the upper end is returned."""
    from .mechanisms import PoissonGaussian
    from .methods import make_accountant

    def eps(sigma: float) -> float:
        return make_accountant(method, **options).compose(
            PoissonGaussian(sample_rate=q, noise_multiplier=sigma), steps).get_epsilon(delta)

    lo = hi = 1.0
    if eps(hi) > target:
        while eps(hi) > target:
            lo, hi = hi, hi * 2.0
            if hi > 1e6:
                raise ValueError(f"target_epsilon={target!r} is not reached with noise_multiplier <= 1e6")
    else:
        while lo > 1e-2 and eps(lo) <= target:
            hi, lo = lo, lo / 2.0
        if eps(lo) <= target:
            return lo
    while hi / lo - 1.0 > rtol:
        mid = math.sqrt(lo * hi)
        if eps(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def run_worker(task: dict) -> dict:
    """Run one peer computation described by ``task`` and return a JSON-able dict:
    ``{"value", "seconds", "note"}`` or ``{"error"}``. ``seconds`` excludes imports."""
    from .mechanisms import PoissonGaussian
    from .methods import make_accountant

    method = task["method"]
    options = task.get("options", {})
    try:
        make_accountant(method, **options)  # imports the library outside the timing
        t0 = time.perf_counter()
        if task["task"] == "epsilon":
            acc = make_accountant(method, **options).compose(
                PoissonGaussian(sample_rate=task["sample_rate"],
                                noise_multiplier=task["noise_multiplier"]), task["steps"])
            value = acc.get_epsilon(task["delta"])
            note = acc.get_epsilon_result(task["delta"]).note
        else:
            value = _calibrate(method, options, task["target_epsilon"], task["delta"],
                               task["sample_rate"], task["steps"])
            note = f"{make_accountant(method, **options)._note()}; sigma bisected to 0.1%"
        return {"value": float(value), "seconds": time.perf_counter() - t0, "note": note}
    except Exception as err:  # reported in the row, never raised into compare
        return {"error": f"{type(err).__name__}: {err}"}


def _worker_main() -> None:  # pragma: no cover - exercised through subprocesses
    task: dict[str, Any] = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(run_worker(task)))
