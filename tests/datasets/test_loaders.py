"""Lookup order, checksum and offline errors of the benchmark dataset loaders (no network)."""

from __future__ import annotations

import hashlib
import io
import urllib.error
from pathlib import Path

import pytest

from s4ts.datasets import informer
from s4ts.datasets.informer import dataset_path, get_dataset, load_informer

CSV = b"date,HUFL,OT\n2016-07-01 00:00:00,1.0,2.0\n2016-07-01 01:00:00,1.5,2.5\n"


@pytest.fixture
def fake_etth1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> informer.InformerDataset:
    """ETTh1 registered with the checksum of CSV, and an empty user cache under tmp_path."""
    spec = informer.InformerDataset(
        "ETTh1", "ETTh1.csv", "h", "ett-hour", "https://example.invalid/ETTh1.csv",
        hashlib.sha256(CSV).hexdigest(), "test", "test",
    )
    monkeypatch.setitem(informer.DATASETS, "ETTh1", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(informer.DATA_ENV, raising=False)
    return spec


def _no_network(*args: object, **kwargs: object) -> None:
    """Stand-in for urlopen that fails like an offline machine."""
    raise urllib.error.URLError("network is unreachable")


def _serve(payload: bytes):
    """Stand-in for urlopen that returns payload."""
    return lambda *args, **kwargs: io.BytesIO(payload)


def test_env_folder_comes_before_cache(fake_etth1, monkeypatch, tmp_path):
    env, cache = tmp_path / "env", tmp_path / "cache" / "s4ts" / "datasets"
    for folder in (env, cache):
        folder.mkdir(parents=True)
        (folder / "ETTh1.csv").write_bytes(CSV)
    monkeypatch.setenv(informer.DATA_ENV, str(env))
    assert dataset_path("etth1") == env / "ETTh1.csv"
    monkeypatch.setenv(informer.DATA_ENV, str(tmp_path / "empty"))
    assert dataset_path("ETTh1") == cache / "ETTh1.csv"


def test_download_goes_to_cache_once(fake_etth1, monkeypatch, tmp_path):
    monkeypatch.setattr(informer.urllib.request, "urlopen", _serve(CSV))
    path = dataset_path("ETTh1")
    assert path == tmp_path / "cache" / "s4ts" / "datasets" / "ETTh1.csv"
    assert path.read_bytes() == CSV
    monkeypatch.setattr(informer.urllib.request, "urlopen", _no_network)
    frame = load_informer("ETTh1")  # served from the cache now
    assert list(frame.columns) == ["date", "HUFL", "OT"]
    assert frame["date"].dtype.kind == "M"


def test_checksum_mismatch_on_download_leaves_nothing(fake_etth1, monkeypatch, tmp_path):
    monkeypatch.setattr(informer.urllib.request, "urlopen", _serve(CSV + b"tampered\n"))
    with pytest.raises(ValueError, match="sha256"):
        dataset_path("ETTh1")
    assert not list((tmp_path / "cache" / "s4ts" / "datasets").iterdir())


def test_checksum_mismatch_of_local_file(fake_etth1, monkeypatch, tmp_path):
    (tmp_path / "ETTh1.csv").write_bytes(CSV.replace(b"2.5", b"9.9"))
    monkeypatch.setenv(informer.DATA_ENV, str(tmp_path))
    with pytest.raises(ValueError, match=r"ETTh1\.csv in S4TS_DATA .*expected"):
        dataset_path("ETTh1")
    assert dataset_path("ETTh1", verify=False) == tmp_path / "ETTh1.csv"


def test_offline_error_says_which_file_goes_where(fake_etth1, monkeypatch, tmp_path):
    monkeypatch.setattr(informer.urllib.request, "urlopen", _no_network)
    with pytest.raises(FileNotFoundError) as err:
        dataset_path("ETTh1")
    message = str(err.value)
    assert "ETTh1.csv" in message and "example.invalid" in message
    assert str(tmp_path / "cache" / "s4ts" / "datasets") in message
    assert "S4TS_DATA" in message


def test_dataset_without_download_link_explains_manual_step(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(informer.DATA_ENV, raising=False)
    monkeypatch.setattr(informer.urllib.request, "urlopen", _no_network)
    with pytest.raises(FileNotFoundError, match="no direct download link.*drive.google.com"):
        dataset_path("electricity")


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="ETTh1, ETTh2"):
        get_dataset("ETTh3")
    assert get_dataset("exchange_rate").filename == "exchange_rate.csv"


def test_missing_target_column_is_reported(fake_etth1, monkeypatch, tmp_path):
    payload = CSV.replace(b"OT", b"XX")
    spec = informer.InformerDataset(
        "ETTh1", "ETTh1.csv", "h", "ett-hour", None, None, "test", "test",
    )
    monkeypatch.setitem(informer.DATASETS, "ETTh1", spec)
    (tmp_path / "ETTh1.csv").write_bytes(payload)
    with pytest.raises(ValueError, match="target 'OT'"):
        load_informer("ETTh1", data_dir=tmp_path)
