"""Scripts of the repository (benchmarks/, examples/) loaded as modules, so tests can call
their functions and `main(argv)` in-process; the scripts are not a package."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType


def load_module(path: os.PathLike[str], name: str) -> ModuleType:
    """The script at `path` as a fresh module called `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
