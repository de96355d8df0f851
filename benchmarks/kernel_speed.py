"""Speed and memory of the S4 (DPLR) and S4D layers against a plain FFT convolution.

For each L: forward+backward time of one S4Layer (batch 8, H=64, N=64) divided
by the time of an rfft/irfft convolution of the same shapes with a learned
(H, L) kernel (the floor, measured in the same run), and the peak memory of
each divided by the floor's. The kinds take turns within each repeat, and a ratio is the
median of the per-repeat ratios. The layers are in training mode, so the DPLR layer's
warm-up call stores C~ at L as a training run's first step does. Then step-mode throughput: 1,000 generated steps
after a 4,096-step context with .step() versus recomputing the convolution
for every new step. Ends with one JSON line: the largest L's figures and, per L, the
ratios (`dplr_over_floor_by_L`, `s4d_over_floor_by_L` and the peak-memory maps).

    python benchmarks/kernel_speed.py [--lengths 256 512 1024 4096 16384] [--repeats 5]
        [--backends torch compiled]   # also the DPLR layer under each backend, same rounds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

from s4ts.bench.timing import BATCH, SEED, H, N, cuda_peak_bytes, interleaved_times
from s4ts.nn import S4Layer
from s4ts.ssm._backend import BACKENDS, ENV_BACKEND, resolve_backend


def make_case(kind: str, L: int, device: str):
    """Return a closure doing one forward+backward of `kind` at length L."""
    torch.manual_seed(SEED)
    u = torch.randn(BATCH, H, L, device=device, requires_grad=True)
    if kind == "floor":
        k = torch.randn(H, L, device=device, requires_grad=True)

        def run():
            y = torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
            y.sum().backward()

        return run
    layer = S4Layer(H, d_state=N, mode=kind).to(device)

    def run():
        layer(u).sum().backward()

    return run


def time_cases(kinds: tuple[str, ...], L: int, device: str, repeats: int) -> tuple[dict, dict]:
    """`interleaved_times` of this script's cases (the floor first) at length L."""
    return interleaved_times({k: make_case(k, L, device) for k in kinds}, device, repeats)


def time_backends(backends: list[str], L: int, device: str, repeats: int) -> tuple[dict, dict]:
    """The floor and one DPLR layer run under each Cauchy backend, taking turns in the same
    rounds of one process (the backend is read from $S4TS_CAUCHY_BACKEND at every call)."""
    layer = make_case("dplr", L, device)

    def under(backend: str):
        def run():
            os.environ[ENV_BACKEND] = backend
            layer()

        return run

    saved = os.environ.get(ENV_BACKEND)
    try:
        return interleaved_times(
            {"floor": make_case("floor", L, device), **{b: under(b) for b in backends}}, device, repeats
        )
    finally:
        if saved is None:
            os.environ.pop(ENV_BACKEND, None)
        else:
            os.environ[ENV_BACKEND] = saved


def peak_memory(kind: str, L: int, device: str) -> float:
    """Peak extra memory (bytes) of one forward+backward, measured in a fresh process."""
    if device == "cuda":
        return cuda_peak_bytes(make_case(kind, L, device))
    code = (
        f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); import kernel_speed as ks; "
        f"print(ks._cpu_peak_in_this_process({kind!r}, {L:d}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _cpu_peak_in_this_process(kind: str, L: int) -> float:
    """Peak RSS above the pre-run RSS for one forward+backward (Linux), after a warm-up
    call at L = 96: what is built once per process (the compiled backend's loops, FFT
    plans) is not memory a call at L needs."""
    make_case(kind, 96, "cpu")()  # F = 48: no size shared with H, N/2 (one compile)
    run = make_case(kind, L, "cpu")
    base = _rss_kib("VmRSS:")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak-RSS counter (VmHWM) to the current RSS
    run()
    return 1024.0 * (_rss_kib("VmHWM:") - base)


def step_speedup(mode: str, device: str, context: int = 4096, steps: int = 1000, sampled: int = 20):
    """Seconds for `steps` outputs by .step() and by re-running the convolution per step."""
    torch.manual_seed(SEED)
    layer = S4Layer(H, d_state=N, mode=mode).to(device).eval()
    u = torch.randn(BATCH, H, context + steps, device=device)
    with torch.no_grad():
        _, state = layer(u[..., :context], return_state=True)
        layer.step(u[..., context], state)  # builds the cached step matrices
        t0 = time.perf_counter()
        for t in range(context, context + steps):
            _, state = layer.step(u[..., t], state)
        step_time = time.perf_counter() - t0
        # Recomputing is slow; time an evenly spaced sample of the steps and scale up.
        picks = torch.linspace(context, context + steps - 1, sampled).long().tolist()
        t0 = time.perf_counter()
        for t in picks:
            layer(u[..., : t + 1])
        conv_time = (time.perf_counter() - t0) * steps / sampled
    return step_time, conv_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 512, 1024, 4096, 16384])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=[],
                        help="also time the DPLR layer under each of these Cauchy backends, in the "
                             "same rounds (JSON: dplr_over_floor_by_backend)")
    args = parser.parse_args()
    backend = resolve_backend(None, torch.device(args.device))
    print(f"device={args.device} threads={torch.get_num_threads()} backend={backend} "
          f"batch={BATCH} H={H} N={N} torch={torch.__version__}")
    header = f"{'L':>6} {'floor ms':>9} {'S4D ms':>8} {'S4D/fl':>7} {'DPLR ms':>8} {'DPLR/fl':>8} " \
             f"{'floor MiB':>9} {'S4D mem/fl':>10} {'DPLR mem/fl':>11}"
    print(header)
    summary = {}
    for L in args.lengths:
        t, ratio = time_cases(("floor", "diag", "dplr"), L, args.device, args.repeats)
        m = {k: peak_memory(k, L, args.device) for k in ("floor", "diag", "dplr")}
        print(f"{L:>6} {1e3 * t['floor']:>9.1f} {1e3 * t['diag']:>8.1f} {ratio['diag']:>7.2f} "
              f"{1e3 * t['dplr']:>8.1f} {ratio['dplr']:>8.2f} {m['floor'] / 2**20:>9.0f} "
              f"{m['diag'] / m['floor']:>10.2f} {m['dplr'] / m['floor']:>11.2f}")
        summary[L] = {
            "s4d_over_floor": ratio["diag"],
            "dplr_over_floor": ratio["dplr"],
            "s4d_peak_mem_over_floor": m["diag"] / m["floor"],
            "dplr_peak_mem_over_floor": m["dplr"] / m["floor"],
        }
    by_backend = {}
    if args.backends:
        print("\nThe DPLR layer under each Cauchy backend, taking turns in the same rounds:")
        print(f"{'L':>6} {'floor ms':>9} " + " ".join(f"{b + ' ms':>12} {b + '/fl':>12}" for b in args.backends))
        for L in args.lengths:
            t, ratio = time_backends(args.backends, L, args.device, args.repeats)
            print(f"{L:>6} {1e3 * t['floor']:>9.1f} "
                  + " ".join(f"{1e3 * t[b]:>12.1f} {ratio[b]:>12.2f}" for b in args.backends))
            for b in args.backends:
                by_backend.setdefault(b, {})[str(L)] = round(ratio[b], 3)
    print("\nstep mode: 1000 steps after a 4096-step context (convolution timed on 20 evenly spaced steps, scaled to 1000)")
    speedups = {}
    for mode in ("diag", "dplr"):
        step_s, conv_s = step_speedup(mode, args.device)
        speedups[mode] = conv_s / step_s
        print(f"  {mode:>4}: step {step_s:.3f} s, recompute {conv_s:.1f} s, speedup {speedups[mode]:.0f}x")
    final = dict(summary[max(summary)])
    final["L"] = max(summary)
    for key in ("s4d_over_floor", "dplr_over_floor", "s4d_peak_mem_over_floor", "dplr_peak_mem_over_floor"):
        final[f"{key}_by_L"] = {str(L): round(row[key], 3) for L, row in summary.items()}
    if by_backend:
        final["dplr_over_floor_by_backend"] = by_backend
    final["step_speedup"] = min(speedups.values())
    final["device"] = args.device
    print(json.dumps(final))


if __name__ == "__main__":
    main()
