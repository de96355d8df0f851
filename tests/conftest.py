"""Shared test settings: small thread count and deterministic seeds."""

import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

# Property tests (tests/properties): a small fixed sample in CI, more when asked:
#   pytest tests/properties --hypothesis-profile=thorough
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=400, deadline=None)
settings.load_profile(os.environ.get("S4TS_HYPOTHESIS_PROFILE", "ci"))

# Compiled keops formulas are cached in the checkout (ignored by git), so
# repeated runs skip the compile step.
os.environ.setdefault("S4TS_KEOPS_CACHE", str(Path(__file__).resolve().parents[1] / ".keops_cache"))

# Tests run beside other work on small machines; two threads is plenty.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _cauchy_backend(request, monkeypatch):
    """Estimator-level tests run the DPLR kernel on the torch backend unless
    $S4TS_CAUCHY_BACKEND says otherwise: the compiled backend builds its loops once per
    process and shape class (seconds to tens of seconds each: tuning workers, CLI and
    distributed runs are processes of their own), and it is tested where the kernel is the
    subject, tests/ssm and tests/nn, which keep the automatic choice."""
    if request.node.path.parent.name not in ("ssm", "nn") and "S4TS_CAUCHY_BACKEND" not in os.environ:
        monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
