"""S4Forecaster constructor overrides written on a benchmark's command line:
`NAME:key=value,key=value` (benchmarks/defaults.py --config, benchmarks/calibration.py --set)."""

from __future__ import annotations

import ast
import re

__all__ = ["parse_config", "parse_value"]

# Set by the panel and the seed loop, not by a configuration.
_FIXED = ("horizon", "futr_exog", "random_state")
_KEYS = re.compile(r",(?=\s*[A-Za-z_]\w*\s*=)")  # commas that start the next key=value
# "none" stays text: it is a value of norm=; Python's None is spelled None.
_WORDS = {"true": True, "false": False}


def parse_value(text: str):
    """A Python literal (8, 0.1, (0.1, 0.9), True, None), else the text itself ("diag", "none")."""
    text = text.strip()
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_config(text: str, allowed: set[str]) -> tuple[str, dict]:
    """`NAME:key=value,key=value` -> (NAME, overrides of S4Forecaster's constructor)."""
    name, sep, body = text.partition(":")
    name = name.strip()
    if not sep or not name or not re.fullmatch(r"[\w.+-]+", name):
        raise ValueError(f"--config {text!r} must be NAME:key=value,key=value (NAME of letters, "
                         f"digits, _ . + -)")
    overrides = {}
    for item in filter(str.strip, _KEYS.split(body)):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise ValueError(f"--config {name}: {item!r} is not key=value")
        if key in _FIXED:
            raise ValueError(f"--config {name}: {key} is set by the panel or --seeds, not by a config")
        if key not in allowed:
            raise ValueError(f"--config {name}: {key!r} is not an S4Forecaster parameter; "
                             f"choose from {sorted(allowed - set(_FIXED))}")
        overrides[key] = parse_value(value)
    return name, overrides
