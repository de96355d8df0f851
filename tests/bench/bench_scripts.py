"""The scripts of benchmarks/, loaded as modules by the tests that check their options."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from script_modules import load_module

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"


def load_script(filename: str) -> ModuleType:
    """benchmarks/<filename> as a module (the scripts are not a package)."""
    return load_module(BENCHMARKS / filename, f"bench_{Path(filename).stem}")


def usage_error(script: ModuleType, options: list[str], capsys) -> str:
    """What `script.main(options)` wrote to stderr, having exited with argparse's usage
    error (code 2)."""
    with pytest.raises(SystemExit) as exit_info:
        script.main(options)
    assert exit_info.value.code == 2
    return capsys.readouterr().err
