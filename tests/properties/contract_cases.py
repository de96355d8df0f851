"""Generated bad and good input for the data contract, and the property each call must keep.

The property: a call either succeeds (finite forecasts at the right future times, or
probabilities that sum to one) or raises ValueError/TypeError from s4ts's own code with a
message that names the argument, column or series; never an exception from inside pandas,
numpy or torch, and never a change to the user's objects.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

import s4ts

PACKAGE = Path(s4ts.__file__).parent

# Small enough that one fit takes a fraction of a second on two cores.
FORECASTER = {"horizon": 3, "context_length": 6, "d_model": 4, "n_layers": 1, "d_state": 4,
              "max_epochs": 1, "batches_per_epoch": 1, "batch_size": 8, "verbose": False, "random_state": 0}
CLASSIFIER = {"d_model": 4, "n_layers": 1, "d_state": 4, "max_epochs": 1, "batch_size": 8, "val_size": 0,
              "n_estimators": 1,
              "verbose": False, "random_state": 0}


def raised_by_s4ts(err: BaseException) -> bool:
    """True when the innermost frame that raised `err` is in s4ts's own files."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE.resolve())


def check_error(err: BaseException, names: list[str]) -> None:
    """The property for a call that failed: a ValueError/TypeError raised in s4ts naming one of `names`."""
    assert isinstance(err, (ValueError, TypeError)), f"{type(err).__name__}: {err}"
    assert raised_by_s4ts(err), "".join(traceback.format_exception(err))
    message = str(err)
    assert any(name in message for name in names), f"no column, series or argument named in: {message}"


ids = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", "s 1", ""]), st.booleans())


@st.composite
def long_frames(draw) -> pd.DataFrame:
    """A long frame (unique_id, ds, y[, promo]) with random ids, time kinds and defects."""
    n_series = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["hourly", "hourly_utc", "integer", "epoch_ns"]))
    frames = []
    for uid in draw(st.lists(ids, min_size=n_series, max_size=n_series, unique_by=str)):
        length = draw(st.integers(1, 40))
        start = draw(st.integers(0, 5))
        steps = np.arange(start, start + length)
        if kind.startswith("hourly"):
            times = pd.Timestamp("2024-03-30") + pd.to_timedelta(steps, unit="h")
            if kind == "hourly_utc":
                times = times.tz_localize("UTC")
        elif kind == "epoch_ns":
            times = pd.Timestamp("2024-01-01").value + steps * 3_600_000_000_000
        else:
            times = steps * draw(st.sampled_from([1, 7]))
        y = draw(st.lists(st.floats(-1e3, 1e3), min_size=length, max_size=length))
        frames.append(pd.DataFrame({"unique_id": [uid] * length, "ds": times, "y": y}))
    frame = pd.concat(frames, ignore_index=True)
    if frame["unique_id"].map(type).nunique() > 1:
        frame["unique_id"] = frame["unique_id"].astype(object)
    return draw(defects(frame))


@st.composite
def defects(draw, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with a few of the defects users send: gaps, duplicates, disorder, bad values."""
    n = len(frame)
    for defect in draw(st.lists(st.sampled_from(
            ["gap", "duplicate", "shuffle", "nan", "inf", "text", "huge", "promo", "drop_col", "tz_mix"]),
            max_size=3, unique=True)):
        row = draw(st.integers(0, n - 1))  # rows are renumbered 0..n-1 after every change
        if defect == "gap" and n > 2:
            frame = frame.drop(index=frame.index[row]).reset_index(drop=True)
            n = len(frame)
        elif defect == "duplicate":
            frame = pd.concat([frame, frame.iloc[[row]]], ignore_index=True)
        elif defect == "shuffle":
            frame = frame.sample(frac=1.0, random_state=draw(st.integers(0, 9))).reset_index(drop=True)
        elif defect in ("nan", "inf", "huge", "text") and "y" not in frame:
            continue
        elif defect in ("nan", "inf", "huge"):
            frame.loc[frame.index[row], "y"] = {"nan": np.nan, "inf": np.inf, "huge": 1e300}[defect]
        elif defect == "text":
            frame = frame.astype({"y": object})
            frame.loc[frame.index[row], "y"] = "n/a"
        elif defect == "promo":
            frame["promo"] = draw(st.sampled_from([0.0, np.nan, 1.0]))
        elif defect == "drop_col":
            frame = frame.drop(columns=draw(st.sampled_from(["y", "ds", "unique_id"])))
        elif defect == "tz_mix" and "ds" in frame and pd.api.types.is_datetime64_any_dtype(frame["ds"]):
            times = frame["ds"].astype(object)
            stamp = pd.Timestamp(times.iloc[row])
            times.iloc[row] = stamp.tz_convert("Europe/Berlin") if stamp.tzinfo else stamp.tz_localize("Asia/Tokyo")
            frame["ds"] = times
    n = len(frame)
    return frame.iloc[:0] if n == 0 else frame


def frame_names(frame: pd.DataFrame, extra: tuple[str, ...] = ()) -> list[str]:
    """What an error about `frame` may name: its columns, series ids, the arguments."""
    names = [str(c) for c in frame.columns] + ["df", "series", "row", "column", "freq", "horizon", *extra]
    if "unique_id" in frame.columns:
        names += [repr(u) for u in pd.unique(frame["unique_id"])]
    return names


@st.composite
def classifier_inputs(draw):
    """(X, y) for S4Classifier: arrays or lists of random shapes, labels of random kinds."""
    n = draw(st.integers(1, 8))
    form = draw(st.sampled_from(["2d", "3d", "list", "frame"]))
    length = draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    if form == "2d":
        X = rng.standard_normal((n, length))
    elif form == "3d":
        X = rng.standard_normal((n, draw(st.integers(1, 2)), length))
    elif form == "list":
        X = [rng.standard_normal(draw(st.integers(0, 12))) for _ in range(n)]
    else:
        rows = [(i, t, rng.standard_normal()) for i in range(n) for t in range(max(length, 1))]
        X = pd.DataFrame(rows, columns=["id", "time", "x"])
        if draw(st.booleans()):
            X["time"] = X["time"].map(lambda t: f"t{t}")
    if draw(st.booleans()) and form in ("2d", "3d") and X.size:
        X.flat[draw(st.integers(0, X.size - 1))] = draw(st.sampled_from([np.nan, np.inf, 1e300]))
    kind = draw(st.sampled_from(["str", "int", "mixed", "float", "none", "short"]))
    labels = {
        "str": [["u", "v"][i % 2] for i in range(n)],
        "int": [i % 3 for i in range(n)],
        "mixed": [[1, "a"][i % 2] for i in range(n)],
        "float": list(rng.standard_normal(n)),
        "none": [None if i == 0 else "u" for i in range(n)],
        "short": ["u"] * max(n - 1, 0),
    }[kind]
    return X, labels
