"""Pictures of a comparison: epsilon against the number of steps for every accountant, and
the privacy profile delta(epsilon) after the run. Needs matplotlib (``pip install
'ewaccount[plot]'``), imported only when a plot is drawn.

Upper bounds are drawn solid, estimates dashed, and every legend entry says which it is.
Figures are built on matplotlib's object API with the Agg canvas (no pyplot state, no
display needed).

Examples
--------
>>> from ewaccount.plots import plot_comparison
>>> fig = plot_comparison(sample_rate=0.01, noise_multiplier=1.0, steps=1000, delta=1e-5,
...                       methods=["rdp", "gdp"])           # doctest: +SKIP
>>> fig.savefig("compare.png")                               # doctest: +SKIP
"""
from __future__ import annotations

from typing import Iterable, Optional

import numpy as np

from . import _validation as v
from .mechanisms import PoissonGaussian

STYLE = {"upper": "-", "estimate": "--", "lower": ":"}


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(f"plots need matplotlib ({err}); install it with: "
                          "pip install 'ewaccount[plot]'") from None
    return Figure, FigureCanvasAgg


def _methods(methods: Optional[Iterable[str]]) -> list[str]:
    from .methods import METHODS, PEER_METHODS
    if methods is None:
        return [m for m in METHODS if m not in PEER_METHODS]
    out = list(dict.fromkeys([methods] if isinstance(methods, str) else methods))
    unknown = [m for m in out if m not in METHODS]
    if unknown or not out:
        raise ValueError(f"methods must be among {sorted(METHODS)}, got {out!r}")
    return out


def _accountant(method: str, q: float, s: float, t: int, options: dict):
    from .compare import options_for
    from .methods import make_accountant
    acc = make_accountant(method, **options_for(method, options)).compose(
        PoissonGaussian(sample_rate=q, noise_multiplier=s), t)
    acc._flags = []     # a plot shows no warnings: collected per accountant (thread-safe),
    return acc          # not silenced process-wide with warnings.catch_warnings


def _label(method: str) -> str:
    from .methods import METHODS
    return f"{method} ({METHODS[method].kind})"


def _new_axes(ax):
    if ax is not None:
        return ax
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def epsilon_vs_steps(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
                     methods: Optional[Iterable[str]] = None, points: int = 25, ax=None,
                     **options):
    """Draw epsilon(delta) against the number of steps 1..``steps`` (log-spaced) for each
    method; returns the matplotlib Axes. Log scale on steps, and on epsilon when it spans
    more than a decade."""
    q, s = v.sample_rate(sample_rate), v.noise_multiplier(noise_multiplier)
    t, d = v.count("steps", steps), v.delta(delta)
    n = v.count("points", points, low=2)
    names = _methods(methods)
    ax = _new_axes(ax)
    grid = np.unique(np.round(np.geomspace(1, t, n)).astype(int))
    from .methods import METHODS
    positive = []
    for m in names:
        eps = np.array([_accountant(m, q, s, int(k), options).get_epsilon(d) for k in grid])
        ax.plot(grid, eps, STYLE[METHODS[m].kind], marker=".", label=_label(m))
        positive.extend(eps[eps > 0].tolist())
    ax.set_xscale("log")
    if positive and max(positive) / min(positive) > 10.0:
        ax.set_yscale("log")
    ax.set_xlabel("steps T")
    ax.set_ylabel(f"epsilon at delta = {d:g}")
    ax.set_title(f"q = {q:g}, sigma = {s:g}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="method (kind)")
    return ax


def privacy_profile(*, sample_rate: float, noise_multiplier: float, steps: int,
                    methods: Optional[Iterable[str]] = None, epsilons=None, delta: float = 1e-5,
                    ax=None, **options):
    """Draw the privacy profile delta(epsilon) after ``steps`` steps for each method (log
    scale on delta); returns the Axes. ``epsilons`` defaults to 60 points from 0 to 1.5
    times the largest epsilon at ``delta``."""
    q, s = v.sample_rate(sample_rate), v.noise_multiplier(noise_multiplier)
    t, d = v.count("steps", steps), v.delta(delta)
    names = _methods(methods)
    ax = _new_axes(ax)
    from .methods import METHODS
    accs = {m: _accountant(m, q, s, t, options) for m in names}
    if epsilons is None:
        top = max(a.get_epsilon(d) for a in accs.values())
        epsilons = np.linspace(0.0, 1.5 * top if top > 0 else 1.0, 60)
    eps = np.asarray([v.epsilon(float(e)) for e in np.atleast_1d(epsilons)])
    for m, acc in accs.items():
        dl = np.array([acc.get_delta(float(e)) for e in eps])
        keep = dl > 0
        ax.plot(eps[keep], dl[keep], STYLE[METHODS[m].kind], label=_label(m))
    ax.set_yscale("log")
    ax.set_ylim(bottom=max(ax.get_ylim()[0], d * 1e-8))
    ax.axhline(d, color="grey", lw=0.8, alpha=0.6)
    ax.set_xlabel("epsilon")
    ax.set_ylabel("delta(epsilon)")
    ax.set_title(f"privacy profile after T = {t}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="method (kind)")
    return ax


def plot_comparison(*, sample_rate: float, noise_multiplier: float, steps: int, delta: float,
                    methods: Optional[Iterable[str]] = None, path: Optional[str] = None,
                    **options):
    """A two-panel figure: epsilon against steps, and the privacy profile at ``steps``.
    Saved to ``path`` when given (format from its extension); returns the Figure."""
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(11.0, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    a1, a2 = fig.subplots(1, 2)
    epsilon_vs_steps(sample_rate=sample_rate, noise_multiplier=noise_multiplier, steps=steps,
                     delta=delta, methods=methods, ax=a1, **options)
    privacy_profile(sample_rate=sample_rate, noise_multiplier=noise_multiplier, steps=steps,
                    methods=methods, delta=delta, ax=a2, **options)
    fig.suptitle("ewaccount: solid = upper bound (guarantee), dashed = estimate (not a guarantee)")
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


__all__ = ["epsilon_vs_steps", "plot_comparison", "privacy_profile"]
