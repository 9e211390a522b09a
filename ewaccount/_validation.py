"""Input validation shared by every public entry point: one clear ``ValueError`` (or
``TypeError``) naming the argument, raised before anything is computed or changed."""
from __future__ import annotations

import math
import numbers

ORDERINGS = ("max", "pq", "qp")


def real(name: str, value, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float, checked to be a finite real number in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return v


def count(name: str, value, *, low: int = 1) -> int:
    """``value`` as an int >= low; integral floats (1e6) are accepted, 2.5 is not."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        v = int(f)
    if v < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return v


def delta(value, name: str = "delta") -> float:
    return real(name, value, low=0.0, high=1.0, low_open=True, high_open=True)


def epsilon(value, name: str = "epsilon") -> float:
    return real(name, value, low=0.0)


def sample_rate(value, name: str = "sample_rate") -> float:
    return real(name, value, low=0.0, high=1.0, low_open=True)


def noise_multiplier(value, name: str = "noise_multiplier") -> float:
    return real(name, value, low=0.0, low_open=True)


def ordering(value) -> str:
    if value not in ORDERINGS:
        raise ValueError(f"ordering must be one of {ORDERINGS}, got {value!r}")
    return value


def order(value) -> int:
    if isinstance(value, bool) or value not in (0, 1, 2, 3):
        raise ValueError(f"order must be 0, 1, 2 or 3, got {value!r}")
    return int(value)
