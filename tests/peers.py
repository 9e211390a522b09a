"""Peer libraries in tests: skip with a reason when one is missing, unless the environment
says peers are required (``EWACCOUNT_REQUIRE_PEERS=1``, set by CI): then a missing peer
is a failure, so a broken install cannot pass as green."""
from __future__ import annotations

import importlib
import os

import pytest

REQUIRED = os.environ.get("EWACCOUNT_REQUIRE_PEERS", "") == "1"


def require(modname: str):
    """Import ``modname`` or skip the test (fail under EWACCOUNT_REQUIRE_PEERS=1)."""
    try:
        return importlib.import_module(modname)
    except ImportError as err:
        msg = f"peer library {modname!r} is not importable ({err}); pip install 'ewaccount[compare]'"
        if REQUIRED:
            pytest.fail(f"EWACCOUNT_REQUIRE_PEERS=1 but {msg}", pytrace=False)
        pytest.skip(msg)
