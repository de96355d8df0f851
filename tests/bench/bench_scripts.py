"""The scripts of benchmarks/, loaded as modules by the tests that check their options."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def load_script(filename: str) -> ModuleType:
    """benchmarks/<filename> as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{Path(filename).stem}", BENCHMARKS / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
