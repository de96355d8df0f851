"""benchmarks/authors_s4.py: a clear error without the authors' code, and a run against a
stand-in for their s4.py (their code is fetched, never part of s4ts or CI)."""

from __future__ import annotations

import json

import pytest
from bench_scripts import load_script

# A stand-in with the authors' FFTConv signature: the same (B, H, L) -> ((B, H, L), state) face.
STAND_IN = '''
import torch
from s4ts.nn import S4Layer


class FFTConv(torch.nn.Module):
    def __init__(self, d_model, l_max, mode, d_state, activation, transposed, backend):
        super().__init__()
        assert activation is None and transposed and backend == "naive"
        self.layer = S4Layer(d_model, d_state=d_state, mode=mode)

    def forward(self, u):
        return self.layer(u), None
'''


@pytest.fixture(scope="module")
def script():
    return load_script("authors_s4.py")


def test_missing_authors_code_says_where_to_get_it(script, tmp_path):
    with pytest.raises(SystemExit, match="state-spaces/s4"):
        script.main(["--authors-dir", str(tmp_path), "--device", "cpu"])


def test_side_by_side_record(script, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")  # the record's form; compiled loops are tested in tests/ssm
    (tmp_path / "s4.py").write_text(STAND_IN)
    assert script.main(["--authors-dir", str(tmp_path), "--device", "cpu", "--lengths", "32", "64",
                        "--repeats", "2"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["authors_backend"] == "naive" and record["ours_backend"] == "torch"
    for mode in ("dplr", "diag"):
        assert set(record["ours_over_authors"][mode]) == {"32", "64"}
        assert all(ratio > 0 for ratio in record["ours_over_authors"][mode].values())
        assert record["peak_mem_ours_over_authors"][mode] == {}  # measured on CUDA only
