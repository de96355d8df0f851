#!/usr/bin/env bash
# Issue 19's GPU checks as one run on a lent GPU machine (the device tool), about 5-8 minutes:
# the CUDA tests, benchmarks/kernel_speed.py on CUDA (torch backend, then keops when pykeops
# works there), and the authors' S4 beside ours (benchmarks/authors_s4.py, their pykeops path
# when it works, else their pure-torch fallback). Logs go to $OUT (the device tool's folder).
#
# Prepare on the CPU machine first (both folders are ignored by git, carried by the tool):
#   .authors/s4/s4.py   the authors' models/s4/s4.py (run, never copied into s4ts)
#   .whl/               pykeops and keopscore wheels for the image's Python 3.12 (pure Python)
# by fetching github:state-spaces/s4 with the fetch tool, then
#   PREPARE=/work/.mirror/state-spaces+s4/repo bash benchmarks/gpu_check.sh
# Then: device run, command "bash benchmarks/gpu_check.sh", carry [".authors", ".whl"], timeout_s 540.
# A dry run of the same steps on the CPU: DEVICE=cpu LENGTHS=256 PYTHON=.venv/bin/python bash benchmarks/gpu_check.sh
set -uo pipefail
if [ -n "${PREPARE:-}" ]; then
    set -e
    mkdir -p .authors/s4 .whl
    grep -qx '/.authors/' .git/info/exclude 2> /dev/null || echo '/.authors/' >> .git/info/exclude
    git --git-dir "$PREPARE" show HEAD:models/s4/s4.py > .authors/s4/s4.py
    git --git-dir "$PREPARE" show HEAD:LICENSE > .authors/s4/LICENSE
    git --git-dir "$PREPARE" rev-parse HEAD > .authors/s4/COMMIT
    .venv/bin/python -m pip wheel -q --no-deps -w .whl pykeops==2.3 keopscore==2.3
    echo "prepared: .authors/s4 (state-spaces/s4 $(cat .authors/s4/COMMIT)), $(ls .whl)"
    exit 0
fi
DEVICE=${DEVICE:-cuda}
LENGTHS=${LENGTHS:-1024 4096 16384 65536}
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
PYTHON=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
if ls .whl/*.whl > /dev/null 2>&1; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/s4ts_site .whl/*.whl \
        && export PYTHONPATH=$PYTHONPATH:/tmp/s4ts_site
fi

"$PYTHON" - <<'PY' 2>&1 | tee "$OUT/preflight.log"
import torch
from s4ts.ssm._backend import _probe
print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
print("pykeops:", _probe() or "imports")
PY

# Tests: the CUDA file and the C~ storage (no conftest: it needs hypothesis, not on the image).
timeout 150 "$PYTHON" -m pytest -q --noconftest -p no:cacheprovider tests/ssm/test_cuda.py \
    tests/ssm/test_dplr_length.py 2>&1 | tee "$OUT/cuda_tests.log"

# shellcheck disable=SC2086  # LENGTHS is a list of numbers
S4TS_CAUCHY_BACKEND=torch timeout 150 "$PYTHON" benchmarks/kernel_speed.py --device "$DEVICE" \
    --lengths $LENGTHS --repeats 10 2>&1 | tee "$OUT/kernel_speed_torch.log"

keops=$("$PYTHON" -c "from s4ts.ssm._backend import keops_available; print(int(keops_available()))" 2>/dev/null || echo 0)
if [ "$keops" = 1 ] && [ "$DEVICE" = cuda ]; then
    # shellcheck disable=SC2086
    S4TS_CAUCHY_BACKEND=keops timeout 150 "$PYTHON" benchmarks/kernel_speed.py --device cuda \
        --lengths $LENGTHS --repeats 10 2>&1 | tee "$OUT/kernel_speed_keops.log"
fi

# shellcheck disable=SC2086
timeout 200 "$PYTHON" benchmarks/authors_s4.py --authors-dir .authors/s4 --device "$DEVICE" \
    --lengths $LENGTHS --repeats 10 2>&1 | tee "$OUT/authors_s4.log"
