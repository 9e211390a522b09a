"""Test configuration: the slow tier, hypothesis profiles and the kernel path in use.

- ``--run-slow`` (or ``EWACCOUNT_RUN_SLOW=1``) runs tests marked ``slow`` (peer libraries,
  long references); they are skipped otherwise.
- Hypothesis profiles: ``ci`` (derandomized, bounded: chosen automatically when ``CI`` is
  set), ``dev`` (default locally) and ``long`` (``HYPOTHESIS_PROFILE=long`` for a thorough
  local run). Tests that set their own ``max_examples`` scale it with the profile (see
  tests/test_robustness.py ``examples``); ``--hypothesis-show-statistics`` prints the count
  each test ran.
"""
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="run tests marked slow (peer libraries, long references)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("EWACCOUNT_RUN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow tier: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    from ewaccount import _kernels
    path = "compiled Cython" if _kernels.COMPILED else "pure-Python twin"
    return f"ewaccount kernels: {path} (EWACCOUNT_PURE_PYTHON={os.environ.get('EWACCOUNT_PURE_PYTHON', '')!r})"


@pytest.fixture(scope="session")
def compiled_core():
    """The compiled kernel module, or skip when this run uses the twin."""
    try:
        from ewaccount._kernels import _core
    except ImportError:
        pytest.skip("compiled kernels not built")
    return _core
