import pytest
import torch

from s4ts.ssm import _backend


def test_automatic_choice_is_the_compiled_loops_on_cpu(monkeypatch):
    monkeypatch.delenv("S4TS_CAUCHY_BACKEND", raising=False)
    assert _backend.resolve_backend(None, torch.device("cpu")) == "compiled"


def test_environment_variable_forces_a_backend(monkeypatch):
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "torch")
    assert _backend.resolve_backend(None, torch.device("cuda")) == "torch"
    monkeypatch.setenv("S4TS_CAUCHY_BACKEND", "fast")
    with pytest.raises(ValueError, match="S4TS_CAUCHY_BACKEND"):
        _backend.resolve_backend(None, torch.device("cpu"))


def test_forcing_keops_without_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(_backend, "keops_available", lambda: False)
    monkeypatch.setattr(_backend, "_probe", lambda: "ImportError: No module named 'pykeops'")
    with pytest.raises(ImportError, match=r"s4ts\[keops\]"):
        _backend.resolve_backend("keops", torch.device("cpu"))
    monkeypatch.delenv("S4TS_CAUCHY_BACKEND", raising=False)
    assert _backend.resolve_backend(None, torch.device("cuda")) == "torch"
