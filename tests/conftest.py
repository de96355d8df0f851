"""Shared test settings: small thread count and deterministic seeds."""

import os
from pathlib import Path

import pytest
import torch

# Compiled keops formulas are cached in the checkout (ignored by git), so
# repeated runs skip the compile step.
os.environ.setdefault("S4TS_KEOPS_CACHE", str(Path(__file__).resolve().parents[1] / ".keops_cache"))

# Tests run beside other work on small machines; two threads is plenty.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
