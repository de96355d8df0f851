"""S4Forecaster.save/load: atomic writes, and folders that are damaged, tampered with or foreign."""

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch
from forecast_data import TINY, make_frame

import s4ts._persistence as persistence
from s4ts import ModelFileError, S4Classifier, S4Forecaster


@pytest.fixture(scope="module")
def model():
    return S4Forecaster(**TINY).fit(make_frame()[["unique_id", "ds", "y"]])


@pytest.fixture
def saved(model, tmp_path):
    model.save(tmp_path / "m")
    return tmp_path / "m"


def edit_config(folder, change):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def test_save_keeps_other_files_and_leaves_no_temporary_ones(model, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    model.save(folder)
    model.save(folder)  # over an existing model
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.pt", "notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    with pytest.raises(FileExistsError, match="is a file"):
        model.save(folder / "notes.txt")


def test_an_interrupted_save_never_leaves_a_model_that_loads(model, saved, monkeypatch):
    other = S4Forecaster(**{**TINY, "random_state": 1}).fit(make_frame(seed=3)[["unique_id", "ds", "y"]])
    real_replace = os.replace

    def stop_before_config(src, dst):
        if str(dst).endswith("config.json"):
            raise KeyboardInterrupt  # the process dies between the two renames
        real_replace(src, dst)

    monkeypatch.setattr(persistence.os, "replace", stop_before_config)
    with pytest.raises(KeyboardInterrupt):
        other.save(saved)
    monkeypatch.undo()
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.pt"]
    with pytest.raises(ModelFileError, match="model.pt does not match .*config.json .*interrupted"):
        S4Forecaster.load(saved)
    # Interrupted while writing the weights: the earlier model is intact.
    model.save(saved)
    monkeypatch.setattr(persistence.torch, "save", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        other.save(saved)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(S4Forecaster.load(saved).predict(), model.predict())


def test_tampered_weights_are_named_as_such(saved):
    class Payload:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"net": Payload()}, saved / "model.pt")
    digest = persistence.hashlib.sha256((saved / "model.pt").read_bytes()).hexdigest()
    edit_config(saved, lambda c: c.update(weights_sha256=digest))  # the attacker fixes the checksum
    with pytest.raises(ModelFileError, match="not an s4ts model file, or it was tampered with") as err:
        S4Forecaster.load(saved)
    assert "weights_only=False" not in str(err.value)


@pytest.mark.parametrize("change, match", [
    (lambda c: c.pop("n_epochs"), "config.json lacks the key 'n_epochs'"),
    (lambda c: c["featurizer"].pop("n_hist"), "config.json lacks the key 'n_hist'"),
    (lambda c: c["params"].update(horizon=-5), "saved parameters are invalid: horizon=-5 must be a positive integer"),
    (lambda c: c["params"].update(colour="red"), r"'params' holds \['colour'\], which S4Forecaster does not take"),
    (lambda c: c["series"].append(dict(c["series"][0], id="extra")), "lists 3 series but .*model.pt holds"),
    (lambda c: c["series"].pop(), "lists 1 series but"),
    (lambda c: c["featurizer"].update(n_futr=2), "the history of series 's0' has .*expected T, T and"),
    (lambda c: c.update(context_length=7), "does not fit the network its config.json describes"),
    (lambda c: c["series"][1].update(trained_until="yesterday"),
     "series 's1' has trained_until='yesterday', which must be an integer time"),
    (lambda c: c.update(estimator="S4Classifier"), "holds a 'S4Classifier', not a S4Forecaster"),
])
def test_a_damaged_config_names_the_file_and_key(saved, change, match):
    edit_config(saved, change)
    with pytest.raises(ModelFileError, match=match):
        S4Forecaster.load(saved)


def test_missing_or_foreign_files(saved, tmp_path):
    (saved / "model.pt").unlink()
    with pytest.raises(FileNotFoundError, match="holds config.json but not model.pt"):
        S4Forecaster.load(saved)
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        S4Forecaster.load(tmp_path / "nowhere")
    (saved / "config.json").write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="holds a JSON list"):
        S4Forecaster.load(saved)
    X = np.random.default_rng(0).standard_normal((8, 16))
    S4Classifier(d_model=4, d_state=4, n_layers=1, max_epochs=1, val_size=0).fit(X, [0, 1] * 4).save(tmp_path / "c")
    with pytest.raises(ModelFileError, match="holds a 'S4Classifier', not a S4Forecaster"):
        S4Forecaster.load(tmp_path / "c")


def test_bool_series_ids_come_back_as_bools(tmp_path):
    frame = make_frame()[["unique_id", "ds", "y"]]
    frame["unique_id"] = frame["unique_id"] == "s0"
    model = S4Forecaster(**TINY).fit(frame)
    model.save(tmp_path / "m")
    loaded = S4Forecaster.load(tmp_path / "m")
    assert list(loaded.series_) == [False, True] or list(loaded.series_) == [True, False]
    assert all(isinstance(uid, bool) for uid in loaded.series_)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_files_without_the_decided_val_size_load_with_what_earlier_versions_held_out(model, saved):
    """Before val_size_ existed, val_size=None held out one horizon."""
    edit_config(saved, lambda c: c.pop("val_size"))
    assert S4Forecaster.load(saved).val_size_ == model.horizon

