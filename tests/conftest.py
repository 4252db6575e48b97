"""Shared fixtures: PyTorch, the second opinion every gradient is checked against.

Without torch installed the cross-checks are skipped, except in CI (``CI=true``)
or with ``GLASSGRAD_REQUIRE_TORCH=1``, where a missing torch is a failure: the
cross-checks must never be skipped silently there.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# In CI the property tests draw the same examples every run, so a green main stays green;
# locally they explore new examples each time.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI", "").lower() == "true":
    settings.load_profile("ci")

INSTALL_COMMAND = 'pip install -e ".[test,torch]"'


def torch_is_required() -> bool:
    """True in CI, or when the user asks for the torch cross-checks to be mandatory."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("GLASSGRAD_REQUIRE_TORCH") == "1"


@pytest.fixture(scope="session")
def torch():
    """The torch module, with float64 as its default dtype for the whole session."""
    try:
        import torch as torch_module
    except (ImportError, OSError) as error:
        if torch_is_required():
            pytest.fail(
                f"PyTorch is required here (CI=true or GLASSGRAD_REQUIRE_TORCH=1) because the torch "
                f"cross-checks are never skipped in CI, but it cannot be imported ({error}). "
                f"Install it with: {INSTALL_COMMAND}",
                pytrace=False,
            )
        pytest.skip(f"PyTorch is not installed (install with: {INSTALL_COMMAND})")
    previous_dtype = torch_module.get_default_dtype()
    torch_module.set_default_dtype(torch_module.float64)
    yield torch_module
    torch_module.set_default_dtype(previous_dtype)
