"""Choice of the kernel backend (torch, torch.compile'd loops or the optional pykeops)."""

from __future__ import annotations

import functools
import os

import torch

BACKENDS = ("torch", "compiled", "keops")
ENV_BACKEND = "S4TS_CAUCHY_BACKEND"
ENV_CACHE = "S4TS_KEOPS_CACHE"


@functools.lru_cache(maxsize=1)
def _probe() -> str | None:
    """Return None when pykeops imports, else the reason it does not."""
    try:
        import pykeops

        pykeops.set_verbose(False)  # library code stays quiet
        cache = os.environ.get(ENV_CACHE)
        if cache:
            # Compiled formulas go to a folder the user controls (e.g. on CI).
            os.makedirs(cache, exist_ok=True)
            pykeops.set_build_folder(cache)
    except Exception as err:  # noqa: BLE001 -- ImportError, or a broken install or compiler
        return f"{type(err).__name__}: {err}"
    return None


def keops_available() -> bool:
    """True when pykeops is installed and imports (CPU-only installs count)."""
    return _probe() is None


def resolve_backend(backend: str | None, device: torch.device) -> str:
    """Backend for Cauchy/Vandermonde: argument, else $S4TS_CAUCHY_BACKEND, else automatic.

    Automatic means keops for CUDA tensors when pykeops is installed, torch on other
    CUDA tensors, and compiled on CPU: the Cauchy sums of the DPLR kernel in loops that
    torch.compile fuses (cauchy_compiled.py; the Vandermonde of S4D stays a blocked
    matmul, its torch path). On CPU the chunked torch backend measured 3x (DPLR) and 12x
    (S4D) faster than keops at L = 4096 (benchmarks/kernel_speed.py), so keops runs on
    CPU only when forced.
    """
    name = backend or os.environ.get(ENV_BACKEND, "").strip().lower() or None
    if name is None:
        if device.type == "cuda":
            return "keops" if keops_available() else "torch"
        return "compiled"
    if name not in BACKENDS:
        raise ValueError(
            f"unknown kernel backend {name!r} (from the argument or ${ENV_BACKEND}); "
            f"choose one of {BACKENDS}"
        )
    if name == "keops" and not keops_available():
        raise ImportError(
            f"the keops backend was asked for but pykeops is not usable ({_probe()}); "
            "install it with `pip install 's4ts[keops]'`"
        )
    return name
