"""The `s4ts` command: forecast a CSV file, and run the benchmark protocols."""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import s4ts

__all__ = ["build_parser", "main"]

# Benchmark subcommands: name -> module providing add_arguments(parser) and run(args) -> report.
BENCHMARKS = {
    "informer": "s4ts.bench.informer",
    "speech": "s4ts.bench.speech",
}


def _float_list(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from err


def _name_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _freq(text: str) -> str | int:
    """Integer steps for integer time, offset aliases ('30min', 'h') otherwise."""
    return int(text) if text.lstrip("-").isdigit() else text


def _auto_bool(text: str) -> bool | str:
    """'auto', 'true' or 'false' (any case) -> S4Forecaster's `linear`, `calendar_features`."""
    choices = {"auto": "auto", "true": True, "false": False}
    if text.lower() not in choices:
        raise argparse.ArgumentTypeError(f"expected auto, true or false, got {text!r}")
    return choices[text.lower()]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `s4ts` with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="s4ts",
        description="Time-series forecasting and classification with S4 state space models.",
    )
    parser.add_argument("--version", action="version", version=f"s4ts {s4ts.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fc = commands.add_parser(
        "forecast",
        help="train an S4Forecaster on a CSV file and write its forecast",
        description="Train an S4Forecaster on the series in a CSV file (long format: one row per "
        "series and time step) and write the forecast of the next --horizon steps as CSV.",
    )
    fc.add_argument("data", type=Path, help="CSV with id (optional for one series), time and target columns")
    fc.add_argument("--horizon", type=int, required=True, help="number of steps to forecast")
    fc.add_argument("--out", type=Path, required=True, help="forecast CSV to write")
    fc.add_argument("--id-col", default=None, help="series id column (default: unique_id; absent = one series)")
    fc.add_argument("--time-col", default="ds", help="time column: datetimes or integers (default: ds)")
    fc.add_argument("--target", default="y", help="target column (default: y)")
    fc.add_argument("--freq", type=_freq, default=None, help="step, e.g. 30min, h, D or an integer (default: inferred)")
    fc.add_argument("--context-length", type=int, default=None, help="training window context (default: 4 x horizon)")
    fc.add_argument("--max-epochs", type=int, default=20, help="training epochs (default: 20)")
    fc.add_argument("--max-time", type=float, default=None, help="training time limit in seconds")
    fc.add_argument("--batch-size", type=int, default=32)
    fc.add_argument("--batches-per-epoch", type=int, default=50,
                    help="random batches per epoch (default 50: at most 1,000 steps; 0: every window)")
    fc.add_argument("--learning-rate", type=float, default=3e-3)
    fc.add_argument("--quantiles", type=_float_list, default=[0.1, 0.5, 0.9], help="e.g. 0.1,0.5,0.9")
    fc.add_argument("--distribution", choices=["quantile", "student_t", "point"], default="quantile")
    fc.add_argument("--futr-exog", type=_name_list, default=[], help="future-known covariate columns, comma-separated")
    fc.add_argument("--hist-exog", type=_name_list, default=[], help="past-only covariate columns, comma-separated")
    fc.add_argument("--linear", type=_auto_bool, default="auto",
                    help="linear context->horizon path: auto (default: on unless irregular), true, false")
    fc.add_argument("--cross-series", action="store_true",
                    help="every series also reads all series' values (joint multivariate inputs)")
    fc.add_argument("--future", type=Path, default=None, help="CSV with the --futr-exog columns for the horizon")
    fc.add_argument("--calendar-features", type=_auto_bool, default="auto",
                    help="time of day, day of week, day of year: auto (default: those the data's "
                         "step and span cover), true (all three), false")
    fc.add_argument("--plot", type=Path, default=None, help="also save a forecast plot (PNG)")
    fc.add_argument("--save-model", type=Path, default=None, help="also save the fitted model to this directory")
    fc.add_argument("--val-size", type=int, default=None,
                    help="steps held out per series for early stopping (default: up to 8 horizons, "
                         "see S4Forecaster val_size; 0: none)")
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument("--quiet", action="store_true", help="print nothing but warnings and errors (no progress, no summary)")
    fc.set_defaults(handler=_forecast)

    _add_tune_parser(commands)

    bench = commands.add_parser(
        "bench",
        help="run a benchmark protocol (informer, speech)",
        description="Run a benchmark protocol; `s4ts bench NAME --help` lists its options.",
    )
    bench.add_argument("benchmark", choices=sorted(BENCHMARKS), help="benchmark to run")
    bench.add_argument("options", nargs=argparse.REMAINDER, help="options of the benchmark")
    bench.set_defaults(handler=_bench)
    return parser


def _add_tune_parser(commands) -> None:
    tn = commands.add_parser(
        "tune",
        help="tune an S4Forecaster on a CSV file with Optuna (the tune extra)",
        description="Search S4Forecaster settings with Optuna on the series of a CSV file (long "
        "format), scoring each trial on rolling origins at the end of the data, and refit the "
        "best. With --storage the study is kept in SQLite (a path) or PostgreSQL (a URL) and "
        "resumes when rerun; `--worker` joins such a study as one more process.",
    )
    tn.add_argument("data", type=Path, nargs="?", help="CSV with id (optional for one series), time and target columns")
    tn.add_argument("--horizon", type=int, help="number of steps to forecast (required unless --worker)")
    tn.add_argument("--n-trials", type=int, default=None,
                    help="finished trials the study should hold (default 20 unless --timeout; a "
                         "--worker takes the study's own unless given)")
    tn.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    tn.add_argument("--storage", default=None,
                    help="study database: a file path or sqlite:///PATH, or postgresql://USER@HOST/DB")
    tn.add_argument("--study-name", default=None, help="study to create or resume in --storage")
    tn.add_argument("--worker", action="store_true",
                    help="join the study --study-name in --storage (started by s4ts tune) as one more worker")
    tn.add_argument("--heartbeat", type=int, default=60,
                    help="seconds between a running trial's heartbeats; a trial silent for twice that is failed and retried")
    tn.add_argument("--out", type=Path, default=None,
                    help="folder for best_params.json, trials.csv, history.png, importances.png and model/")
    tn.add_argument("--metric", choices=["mase", "mae", "mse", "smape", "crps", "quantile_loss"], default="mase")
    tn.add_argument("--cv", type=int, default=3, help="rolling validation origins at the end of the data (default 3)")
    tn.add_argument("--cv-step", type=int, default=None, help="steps between origins (default: horizon)")
    tn.add_argument("--selection", choices=["best", "one_se"], default="one_se",
                    help="the trial refitted: the study's best, or (one_se, default) the given settings unless "
                         "the best beats them by more than one standard error over the origins")
    tn.add_argument("--season", type=int, default=1, help="seasonal-naive lag that scales MASE (default 1)")
    tn.add_argument("--id-col", default=None, help="series id column (default: unique_id; absent = one series)")
    tn.add_argument("--time-col", default="ds", help="time column (default: ds)")
    tn.add_argument("--target", default="y", help="target column (default: y)")
    tn.add_argument("--freq", type=_freq, default=None, help="step, e.g. 30min, h, D or an integer (default: inferred)")
    tn.add_argument("--futr-exog", type=_name_list, default=[], help="future-known covariate columns")
    tn.add_argument("--hist-exog", type=_name_list, default=[], help="past-only covariate columns")
    tn.add_argument("--max-epochs", type=int, default=20, help="training epochs of each trial (default: 20)")
    tn.add_argument("--batches-per-epoch", type=int, default=50, help="random batches per epoch (0: every window)")
    tn.add_argument("--seed", type=int, default=0)
    tn.add_argument("--quiet", action="store_true", help="no progress bar, no per-trial lines")
    tn.set_defaults(handler=_tune)


def _tune(args: argparse.Namespace) -> int:
    try:
        return _run_tune(args)
    except ImportError as err:  # optuna not installed: the message names the extra
        raise ValueError(str(err)) from None
    except (ValueError, TypeError) as err:
        raise type(err)(_in_cli_terms(str(err), args)) from None


def _run_tune(args: argparse.Namespace) -> int:
    from s4ts.tuning import command

    if args.heartbeat < 1:
        raise ValueError(f"--heartbeat {args.heartbeat} must be a positive number of seconds")
    if args.worker:
        settings = command.study_record(args)
        data = argparse.Namespace(**{key: settings[key] for key in command.COLUMN_KEYS})
        df = _read_frame(Path(settings["data"]), data, "data file")
        finished = command.join_study(args, settings, df)
        print(f"worker finished {finished} trials of study {args.study_name!r}")
        return 0
    if args.data is None or args.horizon is None:
        raise ValueError("give the data file and --horizon (or --worker with --storage and --study-name)")
    if args.n_trials is None and args.timeout is None:
        args.n_trials = 20
    args.id_col_given = args.id_col is not None
    args.id_col = args.id_col or "unique_id"
    _check_writable(args.out, "--out", folder=True)
    df = _read_frame(args.data, args, "data file")
    result, _ = command.start_study(args, df)
    print(f"best {result.metric} {result.best_value_:.4g} with {result.best_params_}")
    for line in command.write_outputs(result, args.out) if args.out else []:
        print(line)
    return 0


def _parse_times(values):
    """Datetimes from text. Mixed UTC offsets, as pandas writes a tz-aware column that spans a
    daylight-saving change (+01:00 then +02:00), become the same instants in UTC."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas 2 warns on mixed offsets
        parsed = pd.to_datetime(values)
    if parsed.dtype == object:  # offsets differ between rows: one column needs one zone
        parsed = pd.to_datetime(values, utc=True)
    return parsed


# S4Forecaster's argument names in messages -> the options that set them on the command line.
_OPTIONS = {
    "id_col": "--id-col", "time_col": "--time-col", "target_col": "--target", "freq": "--freq",
    "horizon": "--horizon", "context_length": "--context-length", "max_epochs": "--max-epochs",
    "max_time": "--max-time", "batch_size": "--batch-size", "batches_per_epoch": "--batches-per-epoch",
    "learning_rate": "--learning-rate", "quantiles": "--quantiles", "distribution": "--distribution",
    "futr_exog": "--futr-exog", "hist_exog": "--hist-exog", "linear": "--linear",
    "val_size": "--val-size", "random_state": "--seed",
    # `s4ts tune`'s study settings
    "n_trials": "--n-trials", "timeout": "--timeout", "cv_step": "--cv-step", "cv": "--cv", "season": "--season",
    "metric": "--metric", "storage": "--storage", "study_name": "--study-name",
}


def _in_cli_terms(message: str, args: argparse.Namespace) -> str:
    """An estimator's message with its Python names (df, X_future, id_col=) as the command
    line's (the data file, the --future file, --id-col)."""
    message = re.sub(r"\bset calendar_features=False", "set --calendar-features false", message)
    message = re.sub(r"\bcalendar_features=True", "--calendar-features true", message)
    message = re.sub(r"\bset cross_series=False", "drop --cross-series", message)
    message = re.sub(r"\bcross_series=True", "--cross-series", message)
    message = re.sub(
        r"Convert it first, e\.g\. .*pd\.to_datetime\(.*?\)\)?",
        "Write dates (such as 2024-01-31 13:00) or integers in that column", message,
    )
    for name, option in _OPTIONS.items():
        message = re.sub(rf"\b{name}=(?=[\w'\"\[(-])", f"{option} ", message)
        message = re.sub(rf"\b{name}=", option, message)
        if "_" in name:  # a bare Python name; plain words such as "horizon" stay
            message = re.sub(rf"\b{name}\b", option, message)
    future = f"--future file {str(args.future)!r}" if getattr(args, "future", None) else "--future FILE"
    message = re.sub(r"\bX_future\b", future, message)
    return re.sub(r"\bdf\b", f"data file {str(args.data)!r}", message)


def _read_frame(path: Path, args: argparse.Namespace, role: str):
    """Read a CSV in long format with parsed time column and an id column."""
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        what = "it is not a text CSV file" if isinstance(err, UnicodeDecodeError) else str(err)
        raise ValueError(f"cannot read {role} {str(path)!r}: {what}") from None
    if args.time_col in frame.columns and frame[args.time_col].dtype == object:
        try:
            frame[args.time_col] = _parse_times(frame[args.time_col])
        except (ValueError, TypeError) as err:
            raise ValueError(
                f"{role} {str(path)!r}: time column {args.time_col!r} holds values that are neither "
                f"integers nor dates ({err})"
            ) from err
    if args.id_col not in frame.columns and args.id_col_given is False:
        # One series without an id column: name it after the file.
        frame.insert(0, args.id_col, path.stem)
    return frame


def _check_writable(path: Path | None, option: str, folder: bool = False) -> None:
    """Fail before training when `path` (a file, or a folder when `folder`) cannot be written:
    its parent folder is created and a temporary file written there and removed."""
    if path is None:
        return
    if path.exists() and path.is_dir() != folder:
        kind, wanted = ("a file", "folder") if folder else ("a folder", "file")
        raise ValueError(f"{option} {str(path)!r} is {kind}; give a {wanted} path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as err:
        raise ValueError(f"{option} {str(path)!r} cannot be written ({err.strerror}: {err.filename})") from None


def _forecast(args: argparse.Namespace) -> int:
    try:
        return _run_forecast(args)
    except (ValueError, TypeError) as err:
        raise type(err)(_in_cli_terms(str(err), args)) from None


def _run_forecast(args: argparse.Namespace) -> int:
    from s4ts.data.frames import to_long
    from s4ts.forecasting import S4Forecaster

    args.id_col_given = args.id_col is not None
    args.id_col = args.id_col or "unique_id"
    # Everything that can be checked without training is checked first.
    _check_writable(args.out, "--out")
    _check_writable(args.plot, "--plot")
    _check_writable(args.save_model, "--save-model", folder=True)
    df = _read_frame(args.data, args, "data file")
    future = _read_frame(args.future, args, "--future file") if args.future else None
    model = S4Forecaster(
        horizon=args.horizon,
        context_length=args.context_length,
        freq=args.freq,
        id_col=args.id_col,
        time_col=args.time_col,
        target_col=args.target,
        futr_exog=args.futr_exog,
        hist_exog=args.hist_exog,
        linear=args.linear,
        cross_series=args.cross_series,
        calendar_features=args.calendar_features,
        distribution=args.distribution,
        quantiles=args.quantiles,
        max_epochs=args.max_epochs,
        max_time=args.max_time,
        batch_size=args.batch_size,
        batches_per_epoch=args.batches_per_epoch or None,
        learning_rate=args.learning_rate,
        val_size=args.val_size,
        random_state=args.seed,
        verbose=not args.quiet,
    )
    if future is not None:  # its columns, before training
        columns = {"id_col": args.id_col, "time_col": args.time_col, "target_col": args.target}
        to_long(future, covariates=args.futr_exog, name="X_future", require_target=False, **columns)
    model.fit(df)
    forecast = model.predict(X_future=future)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    forecast.to_csv(args.out, index=False)
    say = (lambda text: None) if args.quiet else print
    say(f"wrote {len(forecast)} forecast rows for {forecast[args.id_col].nunique()} series to {args.out}")
    if args.plot:
        model.plot(forecast, path=args.plot)
        say(f"wrote plot to {args.plot}")
    if args.save_model:
        model.save(args.save_model)
        say(f"saved model to {args.save_model}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    name = args.benchmark
    module_name = BENCHMARKS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise SystemExit(
            f"s4ts bench: error: benchmark {name!r} is not available in this install "
            f"({module_name} cannot be imported: {err})"
        ) from err
    if not (hasattr(module, "add_arguments") and hasattr(module, "run")):
        raise SystemExit(
            f"s4ts bench: error: benchmark {name!r} is not available: {module_name} does not "
            f"provide add_arguments(parser) and run(args) yet"
        )
    parser = argparse.ArgumentParser(prog=f"s4ts bench {name}")
    module.add_arguments(parser)
    # A benchmark's run() returns its report; printing is the command line's job.
    print(module.run(parser.parse_args(args.options)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `s4ts` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    quiet = getattr(args, "quiet", False)
    logging.basicConfig(level=logging.ERROR if quiet else logging.INFO, format="%(message)s")
    try:
        return args.handler(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        # Bad input and missing data files are reported as usage errors (exit status 2), without
        # a traceback: the message says what was wrong or which file to put where.
        parser.exit(2, f"s4ts {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
