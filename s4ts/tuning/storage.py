"""Where a study lives: in memory, in an SQLite file, or in a PostgreSQL (or MySQL) database;
and opening a study there, checked against the metric it was created for.

RDB studies get a heartbeat: a trial whose process died (killed, machine lost) stops beating,
is marked FAIL once `grace_period` seconds pass without a beat (checked when any worker starts
a trial), and its parameters are queued again, so no finished trial is lost and none is
counted twice.
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from pathlib import Path
from typing import Any

from s4ts.tuning._optuna import require_optuna

__all__ = ["STUDY_ATTR", "open_storage", "open_study", "redacted", "release_connections"]

# Database URL schemes (SQLAlchemy dialect+driver) a study can live in.
_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg2", "postgresql+psycopg", "mysql", "mysql+pymysql")
# The study's user attribute that records what it tunes (estimator, metric, data).
STUDY_ATTR = "s4ts"
HEARTBEAT_INTERVAL = 60  # seconds between a running trial's beats
MAX_RETRY = 3  # re-runs of a trial whose process died


def redacted(url: str) -> str:
    """A database URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # an unparseable URL has nothing reliable to hide; show its scheme only
        return url.split("://", 1)[0] + "://..."


def _url(storage: str | os.PathLike) -> str:
    """A database URL from a URL or a file path (an SQLite file)."""
    text = os.fspath(storage)
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    scheme = text.split("://", 1)[0].lower()
    if scheme not in _SCHEMES:
        raise ValueError(
            f"storage={redacted(text)!r}: unknown database scheme {scheme!r}; use a file path or "
            f"sqlite:///PATH (one machine), postgresql://USER:PASSWORD@HOST/DB (many), or one of {_SCHEMES}"
        )
    if scheme == "postgresql" and importlib.util.find_spec("psycopg") is None:
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the tune extra installs psycopg2.
        return "postgresql+psycopg2://" + text.split("://", 1)[1]
    return text


def _retry_callbacks(optuna) -> dict[str, Any]:
    """Re-run a dead worker's trial: optuna >= 4.9 names the callback and its argument anew."""
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
        return {"heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(MAX_RETRY)}
    return {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=MAX_RETRY)}


def _rdb_storage(optuna, url: str, heartbeat_interval: int, grace_period: int, attempts: int = 5):
    """optuna's RDBStorage. Processes that open a new database at the same moment race to
    create its tables, and the losers' CREATE fails (IntegrityError, ProgrammingError): by
    then the tables exist, so such a failure is retried after a short wait."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    def connect():
        with warnings.catch_warnings():
            # Heartbeats have been "experimental" since optuna 2.9; they are what resumes a study.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=heartbeat_interval, grace_period=grace_period, **_retry_callbacks(optuna),
            )

    for attempt in range(1, attempts):
        try:
            return connect()
        except (IntegrityError, ProgrammingError):
            time.sleep(0.5 * attempt)
    return connect()


def release_connections(storage: Any) -> None:
    """Close the pooled database connections of an RDB storage (it reconnects when used
    again); nothing for in-memory storages. Without it, every `tune(storage=URL)` call
    left a connection pool open until garbage collection."""
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def open_storage(
    storage: Any = None, *, heartbeat_interval: int = HEARTBEAT_INTERVAL, grace_period: int | None = None
) -> Any:
    """An optuna storage: None -> in memory; a path or sqlite:/// URL -> SQLite; postgresql://
    (or mysql://) -> that database. A storage object is returned as it is.

    `heartbeat_interval` (seconds) and `grace_period` (default twice the interval) decide how
    soon a dead worker's trial is failed and retried.
    """
    optuna = require_optuna()
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise TypeError(f"storage={storage!r} must be None, a path, a database URL or an optuna storage")
    url = _url(storage)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _rdb_storage(optuna, url, heartbeat_interval, grace_period or 2 * heartbeat_interval)
    except ImportError as err:  # a driver (psycopg2, pymysql) that is not installed
        raise ValueError(f"storage={redacted(url)!r} needs a database driver: {err}") from None
    except (SQLAlchemyError, ValueError) as err:  # bad URL, unreachable server, refused login
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"storage={redacted(url)!r} cannot be opened: {reason}") from None


def open_study(storage: Any, study_name: str | None, record: dict[str, Any], direction: str,
               sampler: Any, pruner: Any) -> Any:
    """Create the study, or load it when `study_name` exists there and was created for the
    same estimator and metric (`record`); ValueError when it was not."""
    optuna = require_optuna()
    study = optuna.create_study(
        storage=storage, study_name=study_name, direction=direction, sampler=sampler, pruner=pruner,
        load_if_exists=True,
    )
    stored = study.user_attrs.get(STUDY_ATTR)
    if stored is None and not study.trials:
        study.set_user_attr(STUDY_ATTR, record)
        stored = record
    if study.direction.name.lower() != direction:
        raise ValueError(
            f"study {study.study_name!r} was created to {study.direction.name.lower()} its objective, "
            f"but metric {record['metric']!r} is to {direction}; choose another study_name or the "
            f"metric the study was made for"
        )
    if stored is not None:
        for key in ("estimator", "metric"):
            if stored.get(key) != record[key]:
                raise ValueError(
                    f"study {study.study_name!r} tunes {key} {stored.get(key)!r}, not {record[key]!r}; "
                    f"choose another study_name or pass the same {key}"
                )
    return study
