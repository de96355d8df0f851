"""Our S4Layer beside the authors' S4 layer (state-spaces/s4, models/s4/s4.py) at the same shapes.

Their code is run, never copied into s4ts: fetch their repository and point --authors-dir at
the folder holding their s4.py (it needs torch, numpy, scipy, einops and pytorch_lightning).
Shapes as benchmarks/kernel_speed.py: batch 8, H = N = 64, one layer (kernel, FFT
convolution, D skip; their FFTConv with activation=None) in training mode, forward +
backward; the two take turns within each repeat and a ratio (ours / theirs) is the median
of the per-repeat ratios. On CUDA also the peak memory of one forward + backward.

Their Cauchy/Vandermonde backend: --authors-backend (default: keops on CUDA when pykeops
imports, else naive, their pure-torch fallback; their keops path does not run on CPU);
ours: $S4TS_CAUCHY_BACKEND as usual (compiled on CPU, keops on CUDA when installed).

    python benchmarks/authors_s4.py --authors-dir DIR [--modes dplr diag]
        [--lengths 1024 4096 16384] [--repeats 5] [--device cuda]

Last line JSON: device, both backends, and per mode and L (as strings) the ratios
(`ours_over_authors`), both times in ms and, on CUDA, the peak-memory ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import torch

from s4ts.bench.timing import BATCH, SEED, H, N, cuda_peak_bytes, interleaved_times
from s4ts.nn import S4Layer
from s4ts.ssm._backend import keops_available, resolve_backend


def load_authors(folder: str) -> ModuleType:
    """Import the authors' s4.py from `folder`; a clear SystemExit when it is missing or broken."""
    path = Path(folder) / "s4.py"
    if not path.is_file():
        raise SystemExit(
            f"no s4.py in {folder!r}: fetch github.com/state-spaces/s4 and pass the folder that "
            "holds models/s4/s4.py as --authors-dir"
        )
    spec = importlib.util.spec_from_file_location("authors_s4_layer", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as err:
        raise SystemExit(f"the authors' s4.py needs a package that is not installed: {err}") from err
    return module


def make_runs(authors: ModuleType, mode: str, L: int, device: str, backend: str) -> dict:
    """Closures doing one forward+backward of their layer and of ours on the same input."""
    torch.manual_seed(SEED)
    u = torch.randn(BATCH, H, L, device=device, requires_grad=True)
    ours = S4Layer(H, d_state=N, mode=mode).to(device)
    theirs = authors.FFTConv(
        H, l_max=L, mode=mode, d_state=N, activation=None, transposed=True, backend=backend
    ).to(device)

    def run_ours():
        ours(u).sum().backward()

    def run_theirs():
        theirs(u)[0].sum().backward()

    return {"authors": run_theirs, "ours": run_ours}  # the first is the ratios' denominator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--authors-dir", default=os.environ.get("S4_AUTHORS_DIR", ".authors/s4"))
    parser.add_argument("--modes", nargs="+", choices=["dplr", "diag"], default=["dplr", "diag"])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--authors-backend", choices=["keops", "naive", "cuda"], default=None)
    args = parser.parse_args(argv)
    authors = load_authors(args.authors_dir)
    theirs_backend = args.authors_backend or (
        "keops" if args.device == "cuda" and keops_available() else "naive"
    )
    ours_backend = resolve_backend(None, torch.device(args.device))
    print(f"device={args.device} threads={torch.get_num_threads()} ours={ours_backend} "
          f"authors={theirs_backend} batch={BATCH} H={H} N={N} torch={torch.__version__}")
    print(f"{'mode':>5} {'L':>6} {'ours ms':>9} {'authors ms':>11} {'ours/authors':>13} {'mem ratio':>10}")
    record = {"device": args.device, "ours_backend": ours_backend, "authors_backend": theirs_backend,
              "ours_over_authors": {}, "ours_ms": {}, "authors_ms": {}, "peak_mem_ours_over_authors": {}}
    for mode in args.modes:
        for key in ("ours_over_authors", "ours_ms", "authors_ms", "peak_mem_ours_over_authors"):
            record[key][mode] = {}
        for L in args.lengths:
            runs = make_runs(authors, mode, L, args.device, theirs_backend)
            times, ratios = interleaved_times(runs, args.device, args.repeats)  # ratios: to the authors'
            ratio = ratios["ours"]
            mem = cuda_peak_bytes(runs["ours"]) / cuda_peak_bytes(runs["authors"]) if args.device == "cuda" else None
            print(f"{mode:>5} {L:>6} {1e3 * times['ours']:>9.1f} {1e3 * times['authors']:>11.1f} "
                  f"{ratio:>13.3f} {'-' if mem is None else f'{mem:.2f}':>10}")
            record["ours_over_authors"][mode][str(L)] = round(ratio, 4)
            record["ours_ms"][mode][str(L)] = round(1e3 * times["ours"], 2)
            record["authors_ms"][mode][str(L)] = round(1e3 * times["authors"], 2)
            if mem is not None:
                record["peak_mem_ours_over_authors"][mode][str(L)] = round(mem, 3)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
