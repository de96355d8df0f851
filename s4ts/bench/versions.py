"""What a benchmark result was measured with: machine, Python, torch threads, package versions."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from importlib import metadata

import torch

__all__ = ["versions"]


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Python version, machine, CPU count, torch threads and the version of each of `packages`
    ("not installed" for one that is not)."""
    out = {"python": platform.python_version(), "machine": platform.machine(),
           "cpus": str(os.cpu_count()), "torch_threads": str(torch.get_num_threads())}
    for package in packages:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
