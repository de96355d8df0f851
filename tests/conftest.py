"""Shared test settings: small thread count and deterministic seeds."""

import os

import pytest
import torch

# Tests run beside other work on small machines; two threads is plenty.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
