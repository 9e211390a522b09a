"""The registry of methods: name -> accountant class, shared by the functional API,
calibration, ``compare`` and the CLI.

"pld" and "prv" are registered always; building them imports dp_accounting /
prv_accountant and raises an ``ImportError`` naming ``pip install 'ewaccount[compare]'``
when the package is missing.
"""
from __future__ import annotations

from .accountants import (Accountant, CertifiedAccountant, EdgeworthAccountant, GDPAccountant,
                          MomentsAccountant, RDPAccountant, SaddlePointAccountant)
from .peers import PLDAccountant, PRVAccountant

METHODS: dict[str, type] = {
    "edgeworth": EdgeworthAccountant,
    "saddlepoint": SaddlePointAccountant,
    "rdp": RDPAccountant,
    "moments": MomentsAccountant,
    "gdp": GDPAccountant,
    "certified": CertifiedAccountant,
    "pld": PLDAccountant,
    "prv": PRVAccountant,
}

#: Methods computed by an optional third-party library (slow; time-boxed in ``compare``).
PEER_METHODS = ("pld", "prv")


#: The default method of the functional API, calibration and the CLI (DESIGN.md section 2):
#: the certified upper bound, so that the number a user reports is a guarantee.
DEFAULT_METHOD = "certified"


def make_accountant(method=DEFAULT_METHOD, **options) -> Accountant:
    """A fresh accountant for ``method`` (default "certified") with its options (unknown
    ones are a TypeError)."""
    if method is None:
        method = DEFAULT_METHOD
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    try:
        return METHODS[method](**options)
    except TypeError as err:
        raise TypeError(f"method {method!r} got unexpected options {sorted(options)}: {err}") from None
