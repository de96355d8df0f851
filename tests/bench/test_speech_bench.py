"""`s4ts bench speech` end to end on a tiny tone corpus: both inputs, the table and the JSON line."""

from __future__ import annotations

import argparse
import json

import pytest
from speech_corpus import write_fake_corpus

from s4ts import cli
from s4ts.bench.speech import add_arguments


@pytest.mark.parametrize("kind", ["raw", "mfcc"])
def test_bench_speech_runs_end_to_end(tmp_path, capsys, kind):
    write_fake_corpus(tmp_path / "corpus")
    code = cli.main([
        "bench", "speech", "--root", str(tmp_path / "corpus"), "--input", kind,
        "--words", "yes,no,up", "--epochs", "1", "--d-model", "8", "--n-layers", "1",
        "--d-state", "8", "--out", str(tmp_path / "out"),
        *(["--filterbank", "4"] if kind == "raw" else []),
    ])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    scores = json.loads(lines[-1])
    assert set(scores) == {"acc_native", "acc_zero_shot"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    summary = (tmp_path / "out" / f"speech_{kind}_summary.md").read_text()
    assert "| s4ts S4Classifier (this run) |" in summary
    assert ("'filterbank': 4" in summary) == (kind == "raw")


def test_bench_speech_refuses_a_filterbank_on_mfcc(tmp_path, capsys):
    write_fake_corpus(tmp_path / "corpus")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["bench", "speech", "--root", str(tmp_path / "corpus"), "--input", "mfcc",
                  "--words", "yes,no,up", "--filterbank", "8"])
    assert exit_info.value.code == 2
    assert "--filterbank applies to raw audio" in capsys.readouterr().err


def test_bench_speech_training_options_use_the_estimator_names():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    new = parser.parse_args(["--root", "x", "--learning-rate", "0.01", "--early-stopping-patience", "3"])
    old = parser.parse_args(["--root", "x", "--lr", "0.01", "--patience", "3"])  # the short spellings
    for args in (new, old):
        assert (args.learning_rate, args.early_stopping_patience) == (0.01, 3)
