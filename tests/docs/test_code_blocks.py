"""Every ```python block in README.md and docs/ runs, so the documentation cannot drift from
the code.

A page's blocks run in order in one namespace, in a temporary working folder. Setup a reader
does not need to see (a small frame called `df`, random tensors) sits in an HTML comment
`<!-- docs-test ... -->` before the blocks that use it; `<!-- docs-test: skip REASON -->`
right before a block skips that block, and the reason is listed in the test's output.
Training runs with small settings: the estimators get small networks unless a block sets
them, and their training budgets (epochs, batches, members, trials) are capped, so every
call still runs as written.
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("**/*.md"))]
# A fenced python block, or a docs-test comment (setup code or a skip marker).
PIECE = re.compile(r"^```python\n(?P<code>.*?)^```|<!-- docs-test(?P<skip>: skip [^\n]*?)?\n?(?P<setup>.*?)-->",
                   re.DOTALL | re.MULTILINE)
SMALL_NET = {"d_model": 8, "n_layers": 1, "d_state": 8}
# class -> (defaults for arguments a block leaves out, upper bounds on budgets, dicts merged in).
# Arguments a block passes are kept, so scikit-learn's clone (tune's trials) sees its own values.
CAPS = {
    "s4ts.S4Forecaster": (SMALL_NET, {"max_epochs": 1, "batches_per_epoch": 2}, {}),
    "s4ts.S4Classifier": (SMALL_NET, {"max_epochs": 1, "n_estimators": 1}, {}),
    "s4ts.integrations.gluonts.S4Estimator": (
        SMALL_NET, {"num_batches_per_epoch": 2}, {"trainer_kwargs": {"max_epochs": 1}}),
}
MAX_TRIALS = 2


def pieces(page: str) -> list[tuple[str, str, int]]:
    """(kind, code or reason, line) of a page in order: kind is "setup", "block" or "skip"."""
    text = (ROOT / page).read_text()
    out = []
    for m in PIECE.finditer(text):
        line = text[: m.start()].count("\n") + 1
        if m.group("code") is not None:
            out.append(("block", m.group("code"), line))
        elif m.group("skip"):
            out.append(("skip", m.group("skip")[len(": skip "):].strip(), line))
        else:
            out.append(("setup", m.group("setup"), line))
    return out


def _capped(cls, defaults: dict, at_most: dict, merged: dict):
    """cls.__init__ with small defaults and bounded budgets; its signature stays the same, so
    scikit-learn's get_params and clone see the estimator's own parameters."""
    original = cls.__init__

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        kwargs = {**defaults, **kwargs}
        for key, bound in at_most.items():
            given = kwargs.get(key)
            kwargs[key] = min(given, bound) if isinstance(given, int) else bound
        for key, value in merged.items():
            kwargs[key] = {**(kwargs.get(key) or {}), **value}
        original(self, *args, **kwargs)

    return __init__


@pytest.fixture
def small_training(monkeypatch):
    import s4ts
    import s4ts.tuning

    for path, caps in CAPS.items():
        module, name = path.rsplit(".", 1)
        cls = getattr(importlib.import_module(module), name)
        monkeypatch.setattr(cls, "__init__", _capped(cls, *caps))
    real_tune = s4ts.tuning.tune

    @functools.wraps(real_tune)
    def tune(*args, n_trials=None, **kwargs):
        return real_tune(*args, n_trials=min(n_trials or MAX_TRIALS, MAX_TRIALS), **kwargs)

    monkeypatch.setattr(s4ts.tuning, "tune", tune)


def test_every_page_with_code_is_collected():
    with_code = [p for p in PAGES if any(kind == "block" for kind, _, _ in pieces(p))]
    assert "README.md" in with_code and "docs/forecasting.md" in with_code and len(with_code) >= 8


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if any(k == "block" for k, _, _ in pieces(p))])
def test_code_blocks_run(page, small_training, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    skipped, skip_next = [], None
    for kind, code, line in pieces(page):
        if kind == "skip":
            skip_next = code
            continue
        if kind == "block" and skip_next is not None:
            skipped.append(f"{page}:{line}: {skip_next}")
            skip_next = None
            continue
        try:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)  # noqa: S102 - the docs' own code
        except Exception as err:
            raise AssertionError(f"{kind} at {page}:{line} failed: {type(err).__name__}: {err}") from err
    if skipped:
        print("skipped blocks:\n" + "\n".join(skipped))
