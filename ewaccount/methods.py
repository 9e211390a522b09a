"""The registry of methods: name -> accountant class, shared by the functional API,
calibration, ``compare`` and the CLI."""
from __future__ import annotations

from .accountants import Accountant, EdgeworthAccountant, SaddlePointAccountant

METHODS: dict[str, type] = {
    "edgeworth": EdgeworthAccountant,
    "saddlepoint": SaddlePointAccountant,
}


def make_accountant(method, **options) -> Accountant:
    """A fresh accountant for ``method`` with its options (unknown ones are a TypeError)."""
    if method is None:
        raise TypeError(f"method is required (there is no default yet); choose one of {sorted(METHODS)}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    try:
        return METHODS[method](**options)
    except TypeError as err:
        raise TypeError(f"method {method!r} got unexpected options {sorted(options)}: {err}") from None
