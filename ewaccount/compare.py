"""Every accountant on the same run, one table (DESIGN.md section 5).

``compare`` answers "what epsilon does each method give for my run?", ``compare_noise``
"what noise multiplier does each method need for my target?" (the "noise saved" view of
EW-Tune). Each row says what its number is (``kind``: "upper" = a valid (epsilon,
delta)-DP guarantee, "estimate" = an approximation with no direction, "lower").

Our own methods run in this process. The third-party rows ("pld": dp_accounting, "prv":
prv_accountant) run in a child process with a time box: a run that would take longer is
stopped and reported as "skipped: would exceed N s", never hangs; a missing package gives
a row saying how to install it, never an exception.

Examples
--------
>>> import ewaccount as ew
>>> rows = ew.compare(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5,
...                   methods=["rdp", "moments", "gdp"])
>>> [(r.method, round(r.epsilon, 3), r.kind) for r in rows]
[('rdp', 2.101, 'upper'), ('moments', 2.538, 'upper'), ('gdp', 1.618, 'estimate')]
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Iterable, Optional

from . import _validation as v
from .calibrate import noise_multiplier_for
from .mechanisms import PoissonGaussian
from .methods import METHODS, PEER_METHODS, make_accountant
from .peers import EXTRA, PACKAGES, available

#: Seconds a third-party row may take before it is stopped (process start included).
DEFAULT_TIME_BOX = 60.0


@dataclass(frozen=True)
class CompareRow:
    """One method's epsilon for the run. ``epsilon`` is None when the row could not be
    computed (then ``note`` says why); ``seconds`` is the computing time (imports and
    process start excluded)."""

    method: str
    epsilon: Optional[float]
    kind: str
    seconds: Optional[float]
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class NoiseRow:
    """One method's calibrated noise multiplier for a target (epsilon, delta): the
    smallest sigma whose epsilon under that method is <= the target. For an "upper"
    method that is a guarantee; for an "estimate" it is not."""

    method: str
    noise_multiplier: Optional[float]
    kind: str
    seconds: Optional[float]
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _methods(methods: Optional[Iterable[str]]) -> list[str]:
    if methods is None:
        return list(METHODS)
    if isinstance(methods, str):
        methods = [methods]
    out = list(dict.fromkeys(methods))
    if not out:
        raise ValueError("methods must name at least one method")
    unknown = [m for m in out if m not in METHODS]
    if unknown:
        raise ValueError(f"methods must be among {sorted(METHODS)}, got unknown {unknown}")
    return out


def options_for(method: str, options: dict) -> dict:
    """The subset of ``options`` that ``method``'s accountant accepts (e.g. ``order`` goes
    to "edgeworth", ``ordering`` to every method that has one)."""
    params = inspect.signature(METHODS[method].__init__).parameters
    return {k: x for k, x in options.items() if k in params}


def _time_box(time_box) -> Optional[float]:
    if time_box is None:
        return None
    return v.real("time_box", time_box, low=0.0, low_open=True)


def _check_options(options: dict, methods: list[str]) -> None:
    """Every option must be accepted by at least one of the methods (typos are errors),
    and valid for each method that accepts it (built once here, before any work)."""
    for key in options:
        if not any(key in inspect.signature(METHODS[m].__init__).parameters for m in methods):
            raise TypeError(f"option {key!r} is not accepted by any of the methods {methods}")
    for m in methods:
        if m in PEER_METHODS:
            continue
        make_accountant(m, **options_for(m, options))


def _peer_row(task: dict, time_box: Optional[float]) -> tuple[Optional[float], Optional[float], str]:
    """(value, seconds, note) of a third-party computation, in a child process."""
    method = task["method"]
    if not available(method):
        return None, None, f"not installed ({PACKAGES[method][1]}): {EXTRA}"
    if time_box is None:
        from .peers import run_worker
        out = run_worker(task)
    else:
        code = "from ewaccount.peers import _worker_main; _worker_main()"
        try:
            proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(task),
                                  capture_output=True, text=True, timeout=time_box,
                                  env=dict(os.environ))
        except subprocess.TimeoutExpired:
            return None, None, f"skipped: would exceed {time_box:g} s"
        try:
            out = json.loads(proc.stdout)
        except ValueError:
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
            return None, None, f"error: worker failed ({tail[0]})"
    if "error" in out:
        return None, None, f"error: {out['error']}"
    return out["value"], out["seconds"], out["note"]


def _own_row(fn, method: str) -> tuple[Optional[float], Optional[float], str]:
    """(value, seconds, note) of one of our methods, ``fn(flags)`` -> (value, note); the
    warnings of its accountants, collected in ``flags`` (not warnings.catch_warnings,
    which is process-wide: compare may run in threads), go into the note."""
    flags: list = []
    t0 = time.perf_counter()
    try:
        value, note = fn(flags)
    except (ValueError, ArithmeticError) as err:
        return None, time.perf_counter() - t0, f"error: {type(err).__name__}: {err}"
    seconds = time.perf_counter() - t0
    msgs = list(dict.fromkeys(str(w) for w in flags))
    if msgs:
        note = "; ".join([note] + [f"warning: {m}" for m in msgs]) if note else \
            "; ".join(f"warning: {m}" for m in msgs)
    return value, seconds, note


def compare(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
            methods: Optional[Iterable[str]] = None, time_box: Optional[float] = DEFAULT_TIME_BOX,
            **options) -> list[CompareRow]:
    """epsilon at ``delta`` after ``steps`` DP-SGD steps, by every method: one row each.

    Parameters
    ----------
    sample_rate, noise_multiplier, steps, delta
        The run: Poisson rate q, sigma, T, and the target delta.
    methods : iterable of str, optional
        Which methods (default: all registered, :data:`ewaccount.METHODS`, in that order).
    time_box : float or None
        Seconds a third-party row ("pld", "prv") may take in its child process (default
        60); None runs them in this process with no limit.
    **options
        Method options, passed to each method that accepts them (``order``, ``ordering``,
        ``orders``, ...); an option no chosen method accepts is a TypeError.

    Returns
    -------
    list of CompareRow
        (method, epsilon, kind, seconds, note); epsilon None with the reason in ``note``
        when a row could not be computed (missing package, time box, error).
    """
    q = v.sample_rate(sample_rate)
    s = v.noise_multiplier(noise_multiplier)
    t = v.count("steps", steps)
    d = v.delta(delta)
    box = _time_box(time_box)
    names = _methods(methods)
    _check_options(options, names)
    rows = []
    for m in names:
        kind = METHODS[m].kind
        opts = options_for(m, options)
        if m in PEER_METHODS:
            task = dict(task="epsilon", method=m, options=opts, sample_rate=q,
                        noise_multiplier=s, steps=t, delta=d)
            value, seconds, note = _peer_row(task, box)
        else:
            def run(flags, m=m, opts=opts):
                acc = make_accountant(m, **opts).compose(
                    PoissonGaussian(sample_rate=q, noise_multiplier=s), t)
                acc._flags = flags
                res = acc.get_epsilon_result(d)
                return res.value, res.note
            value, seconds, note = _own_row(run, m)
        rows.append(CompareRow(m, value, kind, seconds, note))
    return rows


def compare_noise(*, target_epsilon: float, delta: float, sample_rate: float, steps: int,
                  methods: Optional[Iterable[str]] = None,
                  time_box: Optional[float] = DEFAULT_TIME_BOX, **options) -> list[NoiseRow]:
    """The noise multiplier each method needs for ``target_epsilon`` at ``delta``.

    Our methods use :func:`ewaccount.calibrate_noise` (relative 1e-9, never above the
    target under the method); the third-party rows bisect sigma to 0.1% in a time-boxed
    child process (each probe is a full PLD/PRV run). Parameters as :func:`compare`.

    Returns
    -------
    list of NoiseRow
        (method, noise_multiplier, kind, seconds, note).
    """
    target = v.real("target_epsilon", target_epsilon, low=0.0, low_open=True)
    d = v.delta(delta)
    q = v.sample_rate(sample_rate)
    t = v.count("steps", steps)
    box = _time_box(time_box)
    names = _methods(methods)
    _check_options(options, names)
    rows = []
    for m in names:
        kind = METHODS[m].kind
        opts = options_for(m, options)
        if m in PEER_METHODS:
            task = dict(task="noise", method=m, options=opts, sample_rate=q, steps=t,
                        delta=d, target_epsilon=target)
            value, seconds, note = _peer_row(task, box)
        else:
            def run(flags, m=m, opts=opts):
                sigma = noise_multiplier_for(target, d, q, t, m, opts, flags)
                return sigma, make_accountant(m, **opts)._note()
            value, seconds, note = _own_row(run, m)
        rows.append(NoiseRow(m, value, kind, seconds, note))
    return rows
