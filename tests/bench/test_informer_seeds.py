"""benchmarks/informer_seeds.py: option checks, and one tiny run on ETTh1 when the data is there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from bench_scripts import load_script, usage_error


@pytest.fixture(scope="module")
def script():
    return load_script("informer_seeds.py")


@pytest.mark.parametrize("options, message", [
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--search", "linear=true,false"], "--search, --ensemble and --no-baseline do not apply"),
    (["--ensemble", "3"], "--search, --ensemble and --no-baseline do not apply"),
    (["--no-baseline"], "--search, --ensemble and --no-baseline do not apply"),
])
def test_bad_options_exit_with_a_usage_error(script, capsys, options, message):
    assert message in usage_error(script, options, capsys)


def test_missing_data_file_is_a_usage_error(script, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("S4TS_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    err = usage_error(script, ["--dataset", "Weather", "--horizons", "96"], capsys)
    assert "weather.csv (Weather) not found" in err


def test_tiny_run_scores_every_seed_and_their_mean(script, tmp_path: Path, capsys):
    data = os.environ.get("S4TS_DATA")
    if not data or not (Path(data) / "ETTh1.csv").is_file():
        pytest.skip("ETTh1.csv not found: set S4TS_DATA to the folder holding the ETT CSVs")
    out = tmp_path / "new" / "seeds.json"  # the folder is created
    assert script.main([
        "--dataset", "ETTh1", "--horizons", "24", "--seq-len", "48", "--linear", "true",
        "--seeds", "2", "--max-epochs", "1", "--batches-per-epoch", "4",
        "--d-model", "8", "--n-layers", "1", "--d-state", "8", "--json", str(out),
    ]) == 0
    (record,) = json.loads(out.read_text())
    assert [s["seed"] for s in record["seeds"]] == [0, 1]
    scores = [s["mse"] for s in record["seeds"]] + [record["ensemble_mse"], record["linear_mse"]]
    assert all(np.isfinite(v) and 0 < v < 1.0 for v in scores)
    assert record["seeds_below_linear"] == sum(s["mse"] < record["linear_mse"]
                                               for s in record["seeds"])
    assert record["ensemble_over_linear"] == pytest.approx(
        record["ensemble_mse"] / record["linear_mse"])
    assert record["s4_paper_mse"] == 0.061
    printed = capsys.readouterr().out
    assert "| ETTh1 S | 24 |" in printed and json.loads(printed.splitlines()[-1]) == [record]
