"""What users install is what is tested (STYLE.md 11): CI sets the EXPECT variables."""
import os
from pathlib import Path

import pytest

import ewaccount
from ewaccount import _kernels

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.environ.get("EWACCOUNT_EXPECT_INSTALLED") != "1", reason="CI only")
def test_imports_installed_package_not_source_tree():
    assert REPO / "ewaccount" not in Path(ewaccount.__file__).resolve().parents


@pytest.mark.skipif(os.environ.get("EWACCOUNT_EXPECT_COMPILED") != "1", reason="CI compiled path only")
def test_compiled_kernels_in_use():
    assert _kernels.COMPILED and _kernels.PLD_COMPILED and not _kernels.PURE_PYTHON_REQUESTED
    assert _kernels.core.__file__.endswith((".so", ".pyd"))
    assert _kernels.pld.__file__.endswith((".so", ".pyd"))


def test_kernel_path_matches_request():
    if os.environ.get("EWACCOUNT_PURE_PYTHON") == "1":
        assert not _kernels.COMPILED and _kernels.core.__name__.endswith("_core_py")
        assert not _kernels.PLD_COMPILED and _kernels.pld.__name__.endswith("_pld_py")
