"""Kernel selection: the compiled Cython module, or its pure-Python twin.

``EWACCOUNT_PURE_PYTHON=1`` selects the twin; otherwise the compiled module is used when
it was built, and the twin otherwise (``COMPILED`` says which is in use). The same rule
selects ``pld``, the kernels of the certified accountant (``PLD_COMPILED``).
"""
import os

PURE_PYTHON_REQUESTED = os.environ.get("EWACCOUNT_PURE_PYTHON", "") == "1"

if PURE_PYTHON_REQUESTED:
    from . import _core_py as core
    COMPILED = False
else:
    try:
        from . import _core as core  # type: ignore[attr-defined]
        COMPILED = True
    except ImportError:  # extension not built: the twin has the same functions
        from . import _core_py as core
        COMPILED = False

if PURE_PYTHON_REQUESTED:
    from . import _pld_py as pld
    PLD_COMPILED = False
else:
    try:
        from . import _pld as pld  # type: ignore[attr-defined]
        PLD_COMPILED = True
    except ImportError:  # extension not built: the twin has the same functions
        from . import _pld_py as pld
        PLD_COMPILED = False

__all__ = ["core", "pld", "COMPILED", "PLD_COMPILED", "PURE_PYTHON_REQUESTED"]
