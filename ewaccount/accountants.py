"""The ledger: ``compose(mechanism, count) -> self``, then ``get_epsilon`` / ``get_delta``.

Every accountant keeps the same ledger -- the distinct mechanisms that ran and how many
times -- and reads it through the numerics of its method. Composition is additive in the
PLLR (DESIGN.md section 1), so a ledger of k distinct steps costs k kernel evaluations
whatever the number of steps.
"""
from __future__ import annotations

import math
import warnings
from abc import ABC, abstractmethod
from typing import Any, NamedTuple

import numpy as np

from . import _validation as v
from . import gdp as _gdp
from . import mechanisms as mech
from . import moments as _moments
from . import rdp as _rdp
from ._epsgrid import on_eps_grid
from ._kernels import core
from .edgeworth import EdgeworthProfile, oriented
from .exceptions import EdgeworthWarning, SaddlePointWarning
from .pllr import step_cumulants
from .results import EpsilonResult

STATE_FORMAT = "ewaccount.ledger"
STATE_VERSION = 1


class FiniteSampleBound(NamedTuple):
    """eps interval from the finite-sample Edgeworth bound; ``eps_upp`` is inf if vacuous."""

    eps_low: float
    eps_estimate: float
    eps_upp: float
    Delta_X: float
    Delta_Y: float
    vacuous: bool
    note: str


class Accountant(ABC):
    """Base ledger accountant. Subclasses set ``method`` and ``kind`` and implement
    ``_epsilon(delta)`` and ``_delta(epsilon)`` for a non-empty ledger.

    An empty ledger has spent nothing: epsilon 0 and delta 0.
    """

    method: str = ""
    kind: str = ""
    #: our own formulas are read on the eps grid (get_delta); a peer library's are not
    eps_grid: bool = True

    def __init__(self) -> None:
        self._ledger: dict[Any, int] = {}
        self._cache: dict[Any, Any] = {}
        #: when a list, this accountant's warnings are collected there instead of issued:
        #: the thread-safe way to capture them (warnings.catch_warnings is process-wide)
        self._flags: list | None = None

    # -- the ledger -------------------------------------------------------------------
    def compose(self, mechanism, count: int = 1) -> "Accountant":
        """Record ``count`` runs of ``mechanism``; returns ``self`` so calls chain.
        Invalid input raises before the ledger changes."""
        if not isinstance(mechanism, mech.Mechanism):
            raise TypeError(f"mechanism must be Gaussian or PoissonGaussian, got {mechanism!r}")
        n = v.count("count", count)
        self._ledger[mechanism] = self._ledger.get(mechanism, 0) + n
        self._cache.clear()
        return self

    @property
    def ledger(self) -> tuple:
        """((mechanism, count), ...) in the order mechanisms first ran."""
        return tuple(self._ledger.items())

    @property
    def steps(self) -> int:
        """Total number of composed steps."""
        return sum(self._ledger.values())

    def _options(self) -> dict:
        """Options that define the method (saved in the state dict)."""
        return {}

    def _with_my_ledger(self, other: "Accountant") -> "Accountant":
        """``other`` (a fresh accountant of another method) given a copy of this ledger."""
        other._ledger = dict(self._ledger)
        other._cache.clear()
        other._flags = self._flags
        return other

    def _warn(self, warning: Warning, stacklevel: int) -> None:
        """Issue ``warning`` (``stacklevel`` as for warnings.warn from the caller), or
        collect it in ``_flags``."""
        if self._flags is None:
            warnings.warn(warning, stacklevel=stacklevel + 1)
        else:
            self._flags.append(warning)

    # -- queries ------------------------------------------------------------------------
    def get_epsilon(self, delta: float) -> float:
        """Smallest epsilon this method gives at ``delta`` (its ``kind`` says what it is),
        rounded up onto the eps grid (:mod:`ewaccount._epsgrid`, ~5e-13 relative)."""
        d = v.delta(delta)
        if not self._ledger:
            return 0.0
        e = float(self._epsilon(d))
        return on_eps_grid(e, True) if self.eps_grid else e

    def get_delta(self, epsilon: float) -> float:
        """delta at ``epsilon`` (its ``kind`` says what it is), read at epsilon rounded down
        onto the eps grid: a formula is a few ulps off, and eps an ulp apart must not give
        a delta an ulp larger (DESIGN.md section 2: non-increasing)."""
        e = v.epsilon(epsilon)
        if not self._ledger:
            return 0.0
        return float(self._delta(on_eps_grid(e) if self.eps_grid else e))

    def get_epsilon_result(self, delta: float) -> EpsilonResult:
        """:meth:`get_epsilon` with its kind, method, route and note."""
        value = self.get_epsilon(delta)
        return EpsilonResult(value=value, kind=self.kind, method=self.method, delta=float(delta),
                             route=self._route(), note=self._note(),
                             **{self._slot(): value})

    def _slot(self) -> str:
        return {"upper": "upper", "lower": "lower"}.get(self.kind, "estimate")

    def _route(self) -> str:
        return self.method

    def _note(self) -> str:
        return ""

    @abstractmethod
    def _epsilon(self, delta: float) -> float: ...

    @abstractmethod
    def _delta(self, epsilon: float) -> float: ...

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """JSON-serialisable, versioned ledger: load it with :meth:`load_state_dict`."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "accountant": type(self).__name__,
            "options": self._options(),
            "ledger": [dict(mech.to_dict(m), count=n) for m, n in self._ledger.items()],
        }

    def load_state_dict(self, state: dict) -> "Accountant":
        """Replace the ledger by ``state``'s. The whole dict is validated first: a foreign,
        corrupted or mismatched state raises ``ValueError`` and leaves this one unchanged."""
        if not isinstance(state, dict):
            raise ValueError(f"state must be a dict from state_dict(), got {type(state).__name__}")
        if state.get("format") != STATE_FORMAT or state.get("version") != STATE_VERSION:
            raise ValueError(f"state is not an {STATE_FORMAT} v{STATE_VERSION} state dict: "
                             f"format={state.get('format')!r}, version={state.get('version')!r}")
        if state.get("accountant") != type(self).__name__:
            raise ValueError(f"state was saved by {state.get('accountant')!r}, "
                             f"not {type(self).__name__!r}")
        if state.get("options") != self._options():
            raise ValueError(f"state options {state.get('options')!r} differ from this "
                             f"accountant's {self._options()!r}")
        entries = state.get("ledger")
        if not isinstance(entries, list):
            raise ValueError("state['ledger'] must be a list")
        ledger: dict[Any, int] = {}
        for entry in entries:
            if not isinstance(entry, dict) or "count" not in entry:
                raise ValueError(f"malformed ledger entry {entry!r}")
            fields = {k: x for k, x in entry.items() if k != "count"}
            try:
                m = mech.from_dict(fields)
                n = v.count("count", entry["count"])
            except (TypeError, ValueError) as err:
                raise ValueError(f"malformed ledger entry {entry!r}: {err}") from None
            ledger[m] = ledger.get(m, 0) + n
        self._ledger = ledger
        self._cache.clear()
        return self

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={x!r}" for k, x in self._options().items())
        return f"{type(self).__name__}({opts}) with {len(self._ledger)} mechanism(s), {self.steps} steps"


class CumulantAccountant(Accountant):
    """An accountant that reads the summed cumulants K1..K5 of the composed PLLR."""

    def summed_cumulants(self) -> tuple[np.ndarray, np.ndarray]:
        """(K1..K5 under the null P, K1..K5 under the alternative Q) of the composition."""
        key = "cumulants"
        if key not in self._cache:
            cx, cy = np.zeros(5), np.zeros(5)
            for m, n in self._ledger.items():
                sx, sy = step_cumulants(*m.pllr_params())
                cx += n * sx
                cy += n * sy
            self._cache[key] = (cx, cy)
        return self._cache[key]


class EdgeworthAccountant(CumulantAccountant):
    """Edgeworth accountant (Wang, Gao, Zhang, Shen, Su 2022, arXiv 2206.04236): an
    Edgeworth expansion of order 0-3 of the composed PLLR under both hypotheses, whose
    privacy profile is delta(eps) = S_Y(eps) - e^eps S_X(eps).

    ``kind == "estimate"``: the expansion has no error direction; it can be far from the
    truth in either direction at small sigma, q, T or delta (research/edgeworth.md
    section 7), and an :class:`EdgeworthWarning` says when the sum's standardised
    cumulants or the raw curve say so.

    Parameters
    ----------
    order : int
        Number of correction groups (0 = CLT, 1 = EW-Tune's one-term expansion), default 2.
    ordering : {"max", "pq", "qp"}
        Ordered pair (DESIGN.md section 2); "max" (default) is add/remove adjacency.

    Examples
    --------
    >>> import ewaccount as ew
    >>> acc = ew.EdgeworthAccountant(order=1, ordering="pq")
    >>> eps = acc.compose(ew.PoissonGaussian(sample_rate=2000 / 67349, noise_multiplier=0.7865),
    ...                   count=660).get_epsilon(1e-5)    # EW-Tune SST-2: logged 7.9928989025
    >>> round(eps, 9)
    7.992898901
    """

    method = "edgeworth"
    kind = "estimate"

    def __init__(self, order: int = 2, ordering: str = "max") -> None:
        super().__init__()
        self.order = v.order(order)
        self.ordering = v.ordering(ordering)

    def _options(self) -> dict:
        return {"order": self.order, "ordering": self.ordering}

    def _note(self) -> str:
        return f"Edgeworth expansion of order {self.order}: an estimate, not a guarantee"

    def profiles(self) -> list[EdgeworthProfile]:
        """One :class:`EdgeworthProfile` per ordering the method reads."""
        if "profiles" not in self._cache:
            cx, cy = self.summed_cumulants()
            names = ("pq", "qp") if self.ordering == "max" else (self.ordering,)
            self._cache["profiles"] = [EdgeworthProfile(*oriented(cx, cy, o), self.order)
                                       for o in names]
        return self._cache["profiles"]

    def _epsilon(self, delta: float) -> float:
        profiles = self.profiles()
        eps = max(p.epsilon(delta) for p in profiles)
        self._warn_if_unreliable(profiles, eps, delta)
        return eps

    def _delta(self, epsilon: float) -> float:
        profiles = self.profiles()
        delta = max(p.delta(epsilon) for p in profiles)
        self._warn_if_unreliable(profiles, epsilon, delta)
        return delta

    def finite_sample_bound(self, delta: float) -> FiniteSampleBound:
        """The finite-sample bound the Edgeworth papers cite: [eps_low, eps_upp] around the
        order-1 estimate from the Derumigny-Girard-Guyonvarch bound on sup|F - G|
        (arXiv 2101.05780; research/edgeworth.md section 6) under both hypotheses.

        ``vacuous=True`` (eps_upp = inf) whenever the bound certifies nothing -- almost
        always at DP-SGD deltas. Proven for identically distributed steps only: a ledger
        with several distinct mechanisms gets ``vacuous=True`` and says why.
        """
        from .bounds import derumigny_delta_n, epsilon_interval, standardised_moments
        from .pllr import tilted_moments
        d = v.delta(delta)
        estimate = self._with_my_ledger(EdgeworthAccountant(order=1, ordering="pq"))
        eps_hat = estimate.get_epsilon(d) if self._ledger else 0.0
        if len(self._ledger) != 1:
            return FiniteSampleBound(0.0, eps_hat, math.inf, math.nan, math.nan, True,
                                     "the bound is proven for identically distributed steps only")
        (m, n), = self._ledger.items()
        deltas = []
        for t in (0.0, 1.0):  # under P (X) and under Q (Y)
            mo = tilted_moments(*m.pllr_params(), t)
            sm = standardised_moments(n, mo.c2, mo.c3, mo.a1, mo.a3, mo.c4)
            deltas.append(derumigny_delta_n(sm.n, sm.lambda3, sm.K3_tilde, sm.K3, sm.K4))
        (p,) = estimate.profiles()

        def survival(e):
            def sf(x: float) -> float:
                sign, logabs = core.ew_log_sf(float(x), e)
                return sign * math.exp(logabs) if sign else 0.0
            return sf

        eps_max = max(4.0 * eps_hat, p.ey[0] + 40.0 * p.ey[1], 1.0)
        low, upp, vacuous = epsilon_interval(d, survival(p.ex), survival(p.ey), deltas[0], deltas[1], eps_max)
        note = ("vacuous: the Derumigny-Girard-Guyonvarch bound certifies no eps at this delta"
                if vacuous else "order-1 Edgeworth with the Derumigny-Girard-Guyonvarch bound")
        return FiniteSampleBound(low, eps_hat, upp, deltas[0], deltas[1], vacuous, note)

    def _warn_if_unreliable(self, profiles, eps: float, delta: float) -> None:
        reasons = []
        for p in profiles:
            d = p.diagnostics
            if d.unreliable:
                reasons.append(f"|lambda3| = {d.lambda3:.3g}, |lambda4| = {d.lambda4:.3g} of the sum")
            if delta > 0 and p.nonmonotone_above(eps, delta):
                reasons.append("the raw expansion is non-monotone above the answer")
        if reasons:
            self._warn(EdgeworthWarning("Edgeworth estimate may be unreliable: "
                                        + "; ".join(dict.fromkeys(reasons))), stacklevel=4)


class SaddlePointAccountant(Accountant):
    """Saddle-point accountant: second-order Lugannani-Rice on the exponentially tilted
    PLLR sum, from the CGF kernel (see :mod:`ewaccount.saddlepoint`); where the tilted sum
    is far from normal (small q and delta: a Poisson number of large losses) the formula's
    value is replaced by the numerical inversion of the tilted sum (:mod:`ewaccount.inversion`).

    ``kind == "estimate"``: within 0.1% of the truth wherever T q >= 5 (1e-5 or better on
    the reference rows); a :class:`SaddlePointWarning` says when the sum is nearly lattice
    (T q < 5) or far from normal where no inversion could be tabulated.

    Parameters
    ----------
    ordering : {"max", "pq", "qp"}
    """

    method = "saddlepoint"
    kind = "estimate"

    def __init__(self, ordering: str = "max") -> None:
        super().__init__()
        self.ordering = v.ordering(ordering)

    def _options(self) -> dict:
        return {"ordering": self.ordering}

    def _note(self) -> str:
        return "saddle-point (Lugannani-Rice) approximation: an estimate, not a guarantee"

    def profiles(self) -> list:
        from .saddlepoint import (U_MIN, SaddlePointProfile, ledger_cgf, ledger_complex_cgf,
                                  reflected, reflected_complex)
        if "profiles" not in self._cache:
            params = [(m.pllr_params(), n) for m, n in self._ledger.items()]
            cgf = ledger_cgf(params)
            ccgf = ledger_complex_cgf(cgf)
            top = sum(n * -math.log1p(-q) if q < 1.0 else math.inf for (q, _), n in params)
            pq = SaddlePointProfile(cgf, ccgf=ccgf)
            qp = SaddlePointProfile(reflected(cgf), eps_max=top, ccgf=reflected_complex(ccgf))
            # the formula's removable poles at t = 0 and 1 are bridged over |u| < U_MIN; when
            # the tilted sd between them is that small the bridges can span the range where
            # the answer lies: such ledgers are "degenerate" and queried strictly (an answer
            # whose saddle point is bridged takes the fallback).
            # "degenerate" is stored first: a concurrent query that finds "profiles" reads it
            self._cache["degenerate"] = math.sqrt(cgf(0.5).K2) < 4.0 * U_MIN
            # below one expected sampled step the sum is a near-atom at 0 plus rare jumps:
            # the integral is out of reach, the formula is not a distribution there (it can
            # rise with eps: 0 at eps = 0, 0.018 at eps = 1 for q = 6.1e-5, sigma = 0.30,
            # T = 3431), so the whole ledger takes the fallback, whose delta is
            # non-increasing by construction (DESIGN.md section 2)
            self._cache["hopeless"] = sum(q * n for (q, _), n in params) < 1.0
            self._cache["profiles"] = {"pq": [pq], "qp": [qp], "max": [pq, qp]}[self.ordering]
        return self._cache["profiles"]

    def _epsilon(self, delta: float) -> float:
        profiles = self.profiles()
        if self._cache["hopeless"]:
            return self._fallback().get_epsilon(delta)
        strict = self._cache["degenerate"]
        try:
            eps = profiles[0].epsilon(delta, strict)
            for p in profiles[1:]:  # delta_p non-increasing: delta_p(eps) <= delta means eps_p <= eps
                if p.delta(eps, strict) > delta:
                    eps = max(eps, p.epsilon(delta, strict))
        except (ArithmeticError, ValueError):
            return self._fallback().get_epsilon(delta)
        self._warn_if_unreliable(profiles, eps)
        return eps

    def _delta(self, epsilon: float) -> float:
        profiles = self.profiles()
        if self._cache["hopeless"]:
            return self._fallback().get_delta(epsilon)
        try:
            delta = max(p.delta(epsilon, self._cache["degenerate"]) for p in profiles)
        except (ArithmeticError, ValueError):
            return self._fallback().get_delta(epsilon)
        self._warn_if_unreliable(profiles, epsilon)
        return delta

    def _fallback(self) -> "EdgeworthAccountant":
        """Where the tilted variance is ~0 (tiny q: the formula's 1/u terms overflow or its
        poles cover the range) or the sum is a near-atom (below one expected sampled step),
        the order-2 Edgeworth estimate of the same ledger is used, and said."""
        why = [r for r in ("tilted variance ~0" if self._cache.get("degenerate") else None,
                           self._lattice_reason()) if r]
        self._warn(SaddlePointWarning("saddle-point formula unavailable here (" + "; ".join(why or ["numerics"])
                                      + "); the order-2 Edgeworth estimate is returned instead"),
                   stacklevel=5)
        return self._with_my_ledger(EdgeworthAccountant(order=2, ordering=self.ordering))

    def _lattice_reason(self) -> str | None:
        from .saddlepoint import NEAR_LATTICE
        expected = sum(n * m.pllr_params()[0] for m, n in self._ledger.items())
        if expected < NEAR_LATTICE:
            return f"the sum is nearly lattice (expected sampled steps {expected:.3g} < {NEAR_LATTICE:g})"
        return None

    def _warn_if_unreliable(self, profiles, eps: float) -> None:
        reasons = [r for r in [self._lattice_reason()] + [p.far_from_normal(eps) for p in profiles] if r]
        if reasons:
            self._warn(SaddlePointWarning("saddle-point estimate may be unreliable: "
                                          + "; ".join(dict.fromkeys(reasons))), stacklevel=4)


# ---------------------------------------------------------------------------------------
# The comparison accountants (issue 3): RDP, moments, GDP. Thin: they read the ledger as
# segments (q, mu = 1/sigma, n) and call the pure functions of rdp.py, moments.py and
# gdp.py; what they compute is cached per ledger in self._cache (compose clears it).


class _SegmentAccountant(Accountant):
    """An accountant whose numerics read the ledger as segments (q, mu, n)."""

    def segments(self) -> list[tuple[float, float, int]]:
        """The ledger as (sample rate q, mu = 1/sigma, count) per distinct mechanism."""
        return [(*m.pllr_params(), n) for m, n in self._ledger.items()]

    def _curve(self) -> "_rdp.RDPCurve":
        if "curve" not in self._cache:
            self._cache["curve"] = _rdp.RDPCurve(self.segments(), self.ordering, rigorous=True)
        return self._cache["curve"]

    def _order_route(self, what: str) -> str:
        last = self._cache.get("last")
        if last is None:
            return what
        if math.isnan(last.order):
            return f"{what}; total-variation bound sqrt(1 - exp(-KL)) decided"
        return f"{what} at order {last.order:.6g}"


class RDPAccountant(_SegmentAccountant):
    """Renyi DP accountant for the Poisson-subsampled Gaussian, with the optimal
    conversion to (epsilon, delta) -- an upper bound (``kind == "upper"``).

    Per-order RDP R(alpha) = sum_i n_i max(K_i(alpha), K_i(1 - alpha)) / (alpha - 1) is
    exact (the CGF kernel at every order, fractional ones included; Mironov, Talwar &
    Zhang 2019), plus the documented margin K (1 + 1e-8) (:mod:`ewaccount.rdp`). The
    conversion is Balle et al. 2020, Thm. 21 (= Canonne, Kamath & Steinke 2020,
    Prop. 12), minimised exactly over the orders and then refined continuously in
    alpha, so epsilon is never above Opacus's or dp_accounting's RDP epsilon for the same
    orders (up to that 1e-8 margin).

    Parameters
    ----------
    orders : sequence of float > 1, optional
        The grid of Renyi orders (default: dp_accounting's 156 default orders).
    ordering : {"max", "pq", "qp"}
        "max" (default): add/remove adjacency, both orderings.

    Examples
    --------
    >>> import ewaccount as ew
    >>> acc = ew.RDPAccountant().compose(
    ...     ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), count=1000)
    >>> round(acc.get_epsilon(1e-5), 4), acc.kind     # Opacus / dp_accounting: 2.1014
    (2.1013, 'upper')
    """

    method = "rdp"
    kind = "upper"

    def __init__(self, orders=None, ordering: str = "max") -> None:
        super().__init__()
        self.orders = None if orders is None else tuple(float(a) for a in _rdp._grid(orders))
        self.ordering = v.ordering(ordering)

    def _options(self) -> dict:
        return {"orders": None if self.orders is None else list(self.orders),
                "ordering": self.ordering}

    def rdp(self, orders=None) -> np.ndarray:
        """R(alpha) of the composition at ``orders`` (default: this accountant's grid),
        exact plus the rigour margin."""
        a = _rdp._check_orders(self.orders or _rdp.DEFAULT_ORDERS if orders is None else orders)
        if not self._ledger:
            return np.zeros(a.size)
        return self._curve().rdp(a)

    def _epsilon(self, delta: float) -> float:
        r = _rdp.epsilon(None, delta, orders=self.orders, curve=self._curve())
        self._cache["last"] = r
        return r.value

    def _delta(self, epsilon: float) -> float:
        r = _rdp.delta(None, epsilon, orders=self.orders, curve=self._curve())
        self._cache["last"] = r
        return r.value

    def _route(self) -> str:
        return self._order_route("RDP conversion (Balle et al. 2020, Thm. 21)")

    def _note(self) -> str:
        return ("upper bound: exact per-order RDP from the CGF kernel (+1e-8 relative "
                "margin), optimal conversion")


class MomentsAccountant(_SegmentAccountant):
    """The moments accountant of Abadi et al. 2016 (section 3.2, Thm. 2): log-moments
    alpha(lambda) = K(lambda + 1) (max over both orderings) at lambda = 1..32 and the tail
    bound epsilon = min_lambda (T alpha(lambda) + log(1/delta)) / lambda. An upper bound
    (``kind == "upper"``), never below the RDP epsilon: the historical row.

    Examples
    --------
    >>> import ewaccount as ew
    >>> acc = ew.MomentsAccountant().compose(
    ...     ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), count=1000)
    >>> round(acc.get_epsilon(1e-5), 4)
    2.5383
    """

    method = "moments"
    kind = "upper"

    def __init__(self, ordering: str = "max") -> None:
        super().__init__()
        self.ordering = v.ordering(ordering)

    def _options(self) -> dict:
        return {"ordering": self.ordering}

    def _epsilon(self, delta: float) -> float:
        r = _moments.epsilon(None, delta, curve=self._curve())
        self._cache["last"] = r
        return r.value

    def _delta(self, epsilon: float) -> float:
        r = _moments.delta(None, epsilon, curve=self._curve())
        self._cache["last"] = r
        return r.value

    def _route(self) -> str:
        last = self._cache.get("last")
        if last is None or math.isnan(last.order):
            return "moments accountant tail bound (Abadi et al. 2016, Thm. 2)"
        return f"moments accountant tail bound (Abadi et al. 2016, Thm. 2) at lambda = {last.order:g}"

    def _note(self) -> str:
        return "upper bound: the historical moments accountant (lambda <= 32), looser than RDP"


class GDPAccountant(_SegmentAccountant):
    """Gaussian DP by the central limit theorem (Bu, Dong, Long & Su 2020):
    mu^2 = sum_i n_i q_i^2 (e^{1/sigma_i^2} - 1), then the exact mu-GDP curve
    delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2).

    ``kind == "estimate"``: the CLT is an approximation, not a bound, and can be well
    below the true epsilon at small T or q. Equal to Opacus's ``GaussianAccountant``
    (Poisson) on homogeneous ledgers; without subsampling (q = 1) the exact
    sqrt(n)/sigma is used.

    Examples
    --------
    >>> import ewaccount as ew
    >>> acc = ew.GDPAccountant().compose(
    ...     ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=1.0), count=1000)
    >>> round(acc.get_epsilon(1e-5), 3), acc.kind
    (1.618, 'estimate')
    """

    method = "gdp"
    kind = "estimate"
    ordering = "max"

    def mu(self) -> float:
        """mu of the composition (0 for an empty ledger)."""
        if not self._ledger:
            return 0.0
        if "mu" not in self._cache:
            self._cache["mu"] = _gdp.mu_ledger(self.segments())
        return self._cache["mu"]

    def _epsilon(self, delta: float) -> float:
        return _gdp.epsilon(delta, self.mu())

    def _delta(self, epsilon: float) -> float:
        return _gdp.delta(epsilon, self.mu())

    def _route(self) -> str:
        return f"GDP central limit theorem (Bu et al. 2020), mu = {self.mu():.6g}"

    def _note(self) -> str:
        return "estimate: CLT approximation (Bu et al. 2020), not a privacy guarantee"


# The certified accountant (issue 8): a rigorous upper bound within ``rtol`` of the true
# epsilon, from the composed privacy-loss distribution (certified.py, DESIGN.md section 8).

from . import certified as _certified  # noqa: E402


class CertifiedAccountant(Accountant):
    """Certified accountant: a rigorous (eps, delta)-DP upper bound, about ``rtol`` above
    the true epsilon, in milliseconds.

    Each distinct step's privacy-loss distribution is discretised by connect-the-dots,
    tilted, composed by binary squaring with pessimistic re-gridding, and every cut and
    every floating-point error is charged to delta (:mod:`ewaccount.certified` has the
    validity argument). Where that cannot be certified (a grid too large, the error budget
    exceeded) the answer is the RDP bound of the exact CGF with a documented margin, and
    ``get_epsilon_result(...).route`` says so ("composed PLD" or "RDP fallback").

    ``kind == "upper"``: the number is a valid guarantee for the add/remove adjacency
    ("max", default) or the chosen ordering. It is monotone in delta and in the number of
    steps, and round-trips with :meth:`get_delta`, only up to ``rtol`` (the grid is chosen
    per query).

    Parameters
    ----------
    rtol : float
        Tightness: the relative error over the truth the grid is chosen for (default
        0.005; measured errors on the reference panel stay below it).
    ordering : {"max", "pq", "qp"}
        Ordered pair (DESIGN.md section 2); "max" (default) is add/remove adjacency.

    Examples
    --------
    >>> import ewaccount as ew
    >>> from ewaccount.accountants import CertifiedAccountant
    >>> acc = CertifiedAccountant().compose(
    ...     ew.PoissonGaussian(sample_rate=0.01, noise_multiplier=4.0), count=10000)
    >>> eps = acc.get_epsilon(1e-5)      # truth 0.94687 (prv_accountant, dp_accounting)
    >>> 0.94687 <= eps <= 0.94687 * 1.005, acc.kind
    (True, 'upper')
    """

    method = "certified"
    kind = "upper"

    def __init__(self, rtol: float = _certified.DEFAULT_RTOL, ordering: str = "max") -> None:
        super().__init__()
        self.rtol = v.real("rtol", rtol, low=1e-4, high=0.5)
        self.ordering = v.ordering(ordering)

    def _options(self) -> dict:
        return {"rtol": self.rtol, "ordering": self.ordering}

    def segments(self) -> list[tuple[float, float, int]]:
        """The ledger as (sample rate q, mu = 1/sigma, count) per distinct mechanism."""
        return [(*m.pllr_params(), n) for m, n in self._ledger.items()]

    def _epsilon(self, delta: float) -> float:
        key = ("eps", delta)
        if key not in self._cache:
            self._cache[key] = _certified.epsilon_upper(self.segments(), delta, self.rtol, self.ordering)
        ans = self._cache[key]
        self._cache["last"] = ans
        return ans.value

    def _delta(self, epsilon: float) -> float:
        key = ("delta", epsilon)
        if key not in self._cache:
            self._cache[key] = _certified.delta_upper(self.segments(), epsilon, self.rtol, self.ordering)
        ans = self._cache[key]
        self._cache["last"] = ans
        return ans.value

    def _route(self) -> str:
        last = self._cache.get("last")
        return last.route if last is not None else "composed PLD"

    def _note(self) -> str:
        last = self._cache.get("last")
        base = (f"certified upper bound (tightness target rtol = {self.rtol:g}); "
                "every discretisation, cut and rounding error charged to delta")
        if last is not None and last.note:
            return f"{base}; {last.note}"
        return base
