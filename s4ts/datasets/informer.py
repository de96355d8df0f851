"""The long-horizon forecasting datasets of the Informer/Autoformer benchmark, as CSV files."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

#: Environment variable naming a folder that holds the CSV files (checked first).
DATA_ENV = "S4TS_DATA"

_ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/"
#: Autoformer's authors distribute the non-ETT files in this shared folder; it has no stable
#: per-file links, so those files are never downloaded automatically.
AUTOFORMER_FOLDER = "https://drive.google.com/drive/folders/1ZOYpTUa82_jCcxIdTmyr0LXQfvaM9vIy"
_ETT_LICENSE = "CC BY-ND 4.0 (ETDataset, Zhou et al.)"
_AUTOFORMER_LICENSE = "see the original source; redistributed by the Autoformer authors"


@dataclass(frozen=True)
class InformerDataset:
    """Where one benchmark CSV comes from and how the benchmark splits it."""

    name: str
    filename: str
    freq: str  # pandas offset alias of the sampling step
    split: str  # "ett-hour", "ett-minute" (12/4/4 months) or "ratio" (70/10/20)
    url: str | None  # direct download link; None where no stable one exists
    sha256: str | None  # None where no published checksum could be verified
    source: str
    license: str
    target: str = "OT"


def _ett(name: str, freq: str, split: str, sha256: str) -> InformerDataset:
    """One of the four ETT files of the ETDataset repository."""
    return InformerDataset(name, f"{name}.csv", freq, split, _ETT_URL + f"{name}.csv", sha256,
                           "https://github.com/zhouhaoyi/ETDataset", _ETT_LICENSE)


# The ETT checksums are of the files in the ETDataset repository (ETTh1/ETTh2 also match the
# copies in ../shared/data/ETT); the other files have no published checksum we could verify,
# so they load unchecked and the loader logs that it did so.
DATASETS: dict[str, InformerDataset] = {
    d.name: d
    for d in [
        _ett("ETTh1", "h", "ett-hour",
             "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"),
        _ett("ETTh2", "h", "ett-hour",
             "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b"),
        _ett("ETTm1", "15min", "ett-minute",
             "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e"),
        _ett("ETTm2", "15min", "ett-minute",
             "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd"),
        InformerDataset(
            "Weather", "weather.csv", "10min", "ratio", None, None,
            AUTOFORMER_FOLDER + " (Max Planck Institute for Biogeochemistry weather station)",
            _AUTOFORMER_LICENSE,
        ),
        InformerDataset(
            "ECL", "electricity.csv", "h", "ratio", None, None,
            AUTOFORMER_FOLDER + " (UCI ElectricityLoadDiagrams20112014, hourly)",
            _AUTOFORMER_LICENSE,
        ),
        InformerDataset(
            "Exchange", "exchange_rate.csv", "D", "ratio", None, None,
            AUTOFORMER_FOLDER + " (Lai et al. 2018 exchange rates)", _AUTOFORMER_LICENSE,
        ),
        InformerDataset(
            "Traffic", "traffic.csv", "h", "ratio", None, None,
            AUTOFORMER_FOLDER + " (California PeMS road occupancy)", _AUTOFORMER_LICENSE,
        ),
        InformerDataset(
            "ILI", "national_illness.csv", "W", "ratio", None, None,
            AUTOFORMER_FOLDER + " (US CDC ILINet)", _AUTOFORMER_LICENSE,
        ),
    ]
}
_ALIASES = {"electricity": "ECL", "exchange_rate": "Exchange", "national_illness": "ILI"}


def get_dataset(name: str) -> InformerDataset:
    """The registry entry of a benchmark dataset, by name (case-insensitive)."""
    by_lower = {k.lower(): v for k, v in DATASETS.items()}
    key = _ALIASES.get(name.lower(), name).lower()
    if key not in by_lower:
        raise ValueError(
            f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}."
        )
    return by_lower[key]


def cache_dir() -> Path:
    """The user cache folder for downloaded data ($XDG_CACHE_HOME/s4ts, else ~/.cache/s4ts)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "s4ts"


def _sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(spec: InformerDataset, path: Path, where: str) -> None:
    """Raise if the file's sha256 differs from the registry's (no-op when none is known)."""
    if spec.sha256 is None:
        logger.info("%s: no published sha256, loading %s unchecked", spec.name, path)
        return
    got = _sha256(path)
    if got != spec.sha256:
        raise ValueError(
            f"{spec.filename} {where} ({path}) has sha256 {got}, expected {spec.sha256}: "
            f"it is corrupt or a different version. Replace it with the original from "
            f"{spec.url or spec.source}, or pass verify=False to use it anyway."
        )


def _download(spec: InformerDataset, dest: Path) -> None:
    """Fetch spec.url to dest atomically, so an interrupted download leaves no partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=60) as resp:
            while chunk := resp.read(1 << 20):
                out.write(chunk)
        _check(spec, tmp, "downloaded")
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def dataset_path(
    name: str, data_dir: str | os.PathLike | None = None, download: bool = True,
    verify: bool = True,
) -> Path:
    """Local path of a benchmark CSV: data_dir or $S4TS_DATA, then the cache, then a download."""
    spec = get_dataset(name)
    folder = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    if folder:
        path = Path(folder) / spec.filename
        if path.is_file():
            if verify:
                _check(spec, path, f"in {DATA_ENV if data_dir is None else 'data_dir'}")
            return path
    cached = cache_dir() / "datasets" / spec.filename
    if cached.is_file():
        if verify:
            _check(spec, cached, "in the s4ts cache")
        return cached
    searched = (f"{folder}/ and " if folder else "") + f"{cached.parent}/"
    put_it = (
        f"Put {spec.filename} into {cached.parent}/, or set {DATA_ENV} to the folder that "
        f"holds it."
    )
    if spec.url is None:
        raise FileNotFoundError(
            f"{spec.filename} ({spec.name}) not found in {searched}; it has no direct download "
            f"link. Get it from {spec.source}. {put_it}"
        )
    if not download:
        raise FileNotFoundError(
            f"{spec.filename} ({spec.name}) not found in {searched} and download=False. "
            f"Download {spec.url}. {put_it}"
        )
    logger.info("downloading %s from %s", spec.filename, spec.url)
    try:
        _download(spec, cached)
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        raise FileNotFoundError(
            f"{spec.filename} ({spec.name}) not found in {searched} and the download from "
            f"{spec.url} failed ({err}). Download it by hand. {put_it}"
        ) from err
    return cached


def load_informer(
    name: str, data_dir: str | os.PathLike | None = None, download: bool = True,
    verify: bool = True,
) -> pd.DataFrame:
    """One benchmark dataset as a frame: a parsed `date` column, then its value columns."""
    spec = get_dataset(name)
    path = dataset_path(name, data_dir=data_dir, download=download, verify=verify)
    frame = pd.read_csv(path)
    if "date" not in frame.columns or spec.target not in frame.columns:
        raise ValueError(
            f"{path} lacks the 'date' or target {spec.target!r} column of the standard "
            f"{spec.name} layout (columns: {list(frame.columns)[:5]}...); use the file from "
            f"{spec.url or spec.source}."
        )
    frame["date"] = pd.to_datetime(frame["date"])
    return frame
