"""Kernel selection: the compiled Cython modules, or their pure-Python twins.

``EWACCOUNT_PURE_PYTHON=1`` selects the twins; otherwise a compiled module is used when it
was built, and its twin otherwise. ``core`` holds the PLLR, CGF and Edgeworth kernels
(``COMPILED`` says which is in use), ``pld`` the certified accountant's (``PLD_COMPILED``).
"""
import importlib
import os

PURE_PYTHON_REQUESTED = os.environ.get("EWACCOUNT_PURE_PYTHON", "") == "1"


def _select(name: str):
    """(module, compiled?) for the extension ``name`` or its twin ``name + '_py'``."""
    if not PURE_PYTHON_REQUESTED:
        try:
            return importlib.import_module(f"{__name__}.{name}"), True
        except ImportError:  # extension not built: the twin has the same functions
            pass
    return importlib.import_module(f"{__name__}.{name}_py"), False


core, COMPILED = _select("_core")
pld, PLD_COMPILED = _select("_pld")

__all__ = ["core", "pld", "COMPILED", "PLD_COMPILED", "PURE_PYTHON_REQUESTED"]
