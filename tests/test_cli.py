"""The `s4ts` command line: help, forecast from CSV, bench delegation, clear errors."""

import re
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest

from s4ts import S4Forecaster, cli
from s4ts.forecasting import training as training_module

FAST = ["--max-epochs", "1", "--batches-per-epoch", "2", "--context-length", "24", "--quiet"]


@pytest.fixture
def csv_file(tmp_path):
    t = np.arange(120)
    df = pd.DataFrame({
        "when": pd.date_range("2023-03-01", periods=120, freq="h").astype(str),
        "load": 5 + np.sin(2 * np.pi * t / 24),
    })
    path = tmp_path / "plant.csv"
    df.to_csv(path, index=False)
    return path


def test_help_lists_subcommands():
    result = subprocess.run(
        [sys.executable, "-m", "s4ts.cli", "--help"], check=True, capture_output=True, text=True
    )
    assert "forecast" in result.stdout and "bench" in result.stdout


def test_forecast_writes_csv_and_plot(csv_file, tmp_path, capsys):
    out = tmp_path / "out" / "forecast.csv"
    status = cli.main([
        "forecast", str(csv_file), "--horizon", "6", "--out", str(out), "--time-col", "when",
        "--target", "load", "--plot", str(tmp_path / "plot.png"), *FAST[:-1],  # not quiet
    ])
    assert status == 0
    forecast = pd.read_csv(out)
    assert list(forecast.columns) == ["unique_id", "when", "load_pred", "load_q0.1", "load_q0.5", "load_q0.9"]
    assert forecast["unique_id"].unique().tolist() == ["plant"]  # one series, named after the file
    assert forecast["when"].iloc[0] == "2023-03-06 00:00:00"
    assert (tmp_path / "plot.png").exists()
    assert "wrote 6 forecast rows" in capsys.readouterr().out


def test_forecast_bad_input_is_a_usage_error(csv_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["forecast", str(csv_file), "--horizon", "6", "--out", str(tmp_path / "f.csv"),
                  "--time-col", "when", *FAST])
    assert exit_info.value.code == 2
    assert "lacks column(s) ['y']" in capsys.readouterr().err


def test_bench_delegates_to_its_module(monkeypatch):
    calls = {}
    fake = types.ModuleType("fake_bench")
    fake.add_arguments = lambda parser: parser.add_argument("--size", type=int)
    fake.run = lambda args: calls.setdefault("size", args.size) and 0
    monkeypatch.setitem(sys.modules, "fake_bench", fake)
    monkeypatch.setitem(cli.BENCHMARKS, "informer", "fake_bench")
    assert cli.main(["bench", "informer", "--size", "3"]) == 0
    assert calls == {"size": 3}


def test_bench_missing_data_file_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("S4TS_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "informer", "--dataset", "Weather", "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "weather.csv (Weather) not found" in err and "Traceback" not in err


def test_bench_missing_module_says_so(monkeypatch):
    monkeypatch.setitem(cli.BENCHMARKS, "speech", "s4ts.bench.not_written_yet")
    with pytest.raises(SystemExit, match="benchmark 'speech' is not available"):
        cli.main(["bench", "speech"])


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "s4ts", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "forecast" in done.stdout


def test_forecast_training_defaults_are_the_estimators():
    args = cli.build_parser().parse_args(["forecast", "data.csv", "--horizon", "4", "--out", "f.csv"])
    defaults = S4Forecaster().get_params()
    for name in ("max_epochs", "batch_size", "batches_per_epoch", "learning_rate", "distribution",
                 "cross_series", "calendar_features", "linear"):
        assert getattr(args, name) == defaults[name], name


def test_forecast_reads_a_csv_that_spans_a_daylight_saving_change(tmp_path):
    # pandas writes such a tz-aware column with mixed offsets (+01:00, then +02:00).
    times = pd.date_range("2021-03-26", periods=120, freq="h", tz="Europe/Berlin")
    path = tmp_path / "berlin.csv"
    pd.DataFrame({"ds": times, "y": 5 + np.sin(np.arange(120) / 4)}).to_csv(path, index=False)
    assert "+01:00" in path.read_text() and "+02:00" in path.read_text()
    out = tmp_path / "f.csv"
    assert cli.main(["forecast", str(path), "--horizon", "6", "--out", str(out), *FAST]) == 0
    forecast = pd.read_csv(out)
    expected = times[-1].tz_convert("UTC") + pd.Timedelta("1h")
    assert pd.Timestamp(forecast["ds"].iloc[0]) == expected and len(forecast) == 6


def test_quiet_prints_nothing_on_success(csv_file, tmp_path, capfd):
    out = tmp_path / "f.csv"
    assert cli.main(["forecast", str(csv_file), "--horizon", "6", "--out", str(out), "--time-col", "when",
                     "--target", "load", *FAST]) == 0
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == "" and out.exists()


@pytest.mark.parametrize("extra, message", [
    (["--id-col", "site"], "data file '{data}' lacks column(s) ['site']; .*with --id-col, --time-col, --target$"),
    (["--context-length", "-3"], "--context-length -3 must be a positive integer"),
    (["--horizon", "200"], "lower horizon, or set --val-size 0"),
    (["--future", "{tmp}/none.csv", "--futr-exog", "promo"], "cannot read --future file '{tmp}/none.csv'"),
    (["--future", "{data}", "--futr-exog", "promo"], "--future file '{data}' lacks column(s) ['promo']"),
    (["--out", "{tmp}"], "--out '{tmp}' is a folder; give a file path"),
    (["--out", "{data}/f.csv"], "--out '{data}/f.csv' cannot be written"),
    (["--save-model", "{data}"], "--save-model '{data}' is a file; give a folder path"),
])
def test_forecast_errors_speak_the_command_lines_terms_before_training(
        csv_file, tmp_path, capsys, monkeypatch, extra, message):
    for step in ("fit_linear_path", "train_network"):
        monkeypatch.setattr(training_module, step, lambda *a: pytest.fail("trained before checking"))
    fill = {"data": str(csv_file), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in extra]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["forecast", str(csv_file), "--horizon", "6", "--out", str(tmp_path / "f.csv"), "--time-col",
                  "when", "--target", "load", *FAST, *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    pattern = ".*".join(re.escape(part) for part in message.format(**fill).rstrip("$").split(".*"))
    assert re.search(pattern + ("$" if message.endswith("$") else ""), err), err
    assert "id_col=" not in err and "df " not in err and "X_future" not in err


def test_a_binary_input_file_is_named(tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SystemExit):
        cli.main(["forecast", str(path), "--horizon", "6", "--out", str(tmp_path / "f.csv"), *FAST])
    assert f"cannot read data file '{path}': it is not a text CSV file" in capsys.readouterr().err
