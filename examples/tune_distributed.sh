#!/usr/bin/env bash
# One Optuna study of S4Forecaster in PostgreSQL, run by several worker processes at once.
#
#   examples/tune_distributed.sh [DATABASE_URL] [options] [-- extra `s4ts tune` options]
#
#   DATABASE_URL   postgresql://USER[:PASSWORD]@HOST[:PORT]/DB; default $S4TS_POSTGRES, else the
#                  throwaway local server of scripts/start_postgres.sh (started when needed)
#   --data CSV     long-format CSV (unique_id, ds, y); default: write a small synthetic one
#                  (three hourly series with a daily cycle) to OUT/data.csv
#   --horizon H    steps to forecast (default 12)
#   --workers N    processes in all: the one that starts the study and N-1 `--worker`s (default 2)
#   --n-trials N   finished trials the study should hold (default 8)
#   --study-name NAME        default tune_distributed_<date>_<time>; an existing one is resumed
#   --out DIR                best_params.json, trials.csv, plots, model/ and logs/ (default out/tune_distributed)
#   --max-epochs E, --batches-per-epoch B   each trial's training budget (default 5 and 20)
#   Anything after `--` goes to the first `s4ts tune` (e.g. -- --id-col store --freq D).
#
# What happens: the first process (`s4ts tune DATA ... --storage URL --study-name NAME --out DIR`)
# creates the study and records in it the data path, columns and settings; each
# `s4ts tune --worker --storage URL --study-name NAME` reads them from there and runs trials
# of the same study. All stop once the study holds --n-trials finished trials (a worker may
# finish the trial it is in, so a few more can appear); the first process then refits the
# best on all the data and writes DIR. A worker killed mid-trial stops sending heartbeats:
# after twice --heartbeat seconds (default 60) its trial is marked failed and its parameters
# are run again by another worker, so nothing is lost or counted twice.
#
# On several machines, the same three commands, spread out:
#   1. A PostgreSQL database every machine reaches, e.g.
#        postgresql://tuner:SECRET@db.example.org:5432/studies
#      (scripts/start_postgres.sh listens on 127.0.0.1 only: it serves one machine, and tests).
#   2. The data file at the same absolute path on every machine (a shared filesystem, or a
#      copy): workers read the path the first process recorded in the study.
#   3. On one machine, once:
#        s4ts tune /data/load.csv --horizon 24 --n-trials 200 --storage "$URL" --study-name load --out out/load
#   4. On each other machine, one worker per core, each on one thread (torch would otherwise
#      start a thread per core in every worker, and they would slow each other down):
#        for i in $(seq "$(nproc)"); do
#            OMP_NUM_THREADS=1 s4ts tune --worker --storage "$URL" --study-name load > "worker-$i.log" 2>&1 &
#        done; wait
#      Workers started before step 3 wait up to a minute for the study to appear (processes
#      that create optuna's tables in a new database at the same moment retry until they exist).
#      Start more at any time; a rerun of step 3 resumes the study and refits its best.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
# The s4ts command line: the repository's virtualenv when there is one, else python3 (`python
# -m s4ts` is the `s4ts` command; it needs s4ts installed with the tune extra).
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$REPO/.venv/bin/python" ]; then PYTHON="$REPO/.venv/bin/python"; else PYTHON=python3; fi
fi
S4TS=("$PYTHON" -m s4ts)

URL="${S4TS_POSTGRES:-}"
DATA=""
HORIZON=12
WORKERS=2
N_TRIALS=8
STUDY="tune_distributed_$(date +%Y%m%d_%H%M%S)"
OUT="out/tune_distributed"
MAX_EPOCHS=5
BATCHES=20
EXTRA=()

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
need_value() { [ $# -ge 2 ] || { echo "tune_distributed.sh: $1 needs a value" >&2; exit 2; }; }

while [ $# -gt 0 ]; do
    case "$1" in
        --data) need_value "$@"; DATA="$2"; shift 2 ;;
        --horizon) need_value "$@"; HORIZON="$2"; shift 2 ;;
        --workers) need_value "$@"; WORKERS="$2"; shift 2 ;;
        --n-trials) need_value "$@"; N_TRIALS="$2"; shift 2 ;;
        --study-name) need_value "$@"; STUDY="$2"; shift 2 ;;
        --out) need_value "$@"; OUT="$2"; shift 2 ;;
        --max-epochs) need_value "$@"; MAX_EPOCHS="$2"; shift 2 ;;
        --batches-per-epoch) need_value "$@"; BATCHES="$2"; shift 2 ;;
        -h|--help) usage ;;
        --) shift; EXTRA=("$@"); break ;;
        -*) echo "tune_distributed.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) URL="$1"; shift ;;
    esac
done
case "$WORKERS" in ''|*[!0-9]*|0) echo "tune_distributed.sh: --workers must be a positive integer, got '$WORKERS'" >&2; exit 2 ;; esac

if [ -z "$URL" ]; then
    echo "no database URL given (argument or S4TS_POSTGRES): starting the local throwaway server"
    URL="$(bash "$REPO/scripts/start_postgres.sh" | tail -1)"
fi

mkdir -p "$OUT/logs"
if [ -z "$DATA" ]; then
    DATA="$OUT/data.csv"
    "$PYTHON" - "$DATA" <<'PY'
import sys

import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
t = np.arange(20 * 24)  # 20 days of hours
pd.concat([
    pd.DataFrame({"unique_id": f"s{i}", "ds": pd.date_range("2024-01-01", periods=len(t), freq="h"),
                  "y": 10.0 * (i + 1) + 3 * np.sin(2 * np.pi * t / 24 + i) + rng.normal(0, 0.3, len(t))})
    for i in range(3)
]).to_csv(sys.argv[1], index=False)
PY
    echo "wrote $DATA (3 hourly series of 480 steps)"
fi

# One thread per process: the workers share this machine's cores.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

PIDS=()
stop_all() {  # on Ctrl-C or an error: stop the processes this script started
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "study '$STUDY': $N_TRIALS trials, $WORKERS processes; follow them with: tail -f $OUT/logs/*.log"
"${S4TS[@]}" tune "$DATA" --horizon "$HORIZON" --n-trials "$N_TRIALS" --storage "$URL" --study-name "$STUDY" \
    --out "$OUT" --max-epochs "$MAX_EPOCHS" --batches-per-epoch "$BATCHES" ${EXTRA[@]+"${EXTRA[@]}"} \
    > "$OUT/logs/main.log" 2>&1 &
PIDS+=("$!")
for i in $(seq 2 "$WORKERS"); do
    "${S4TS[@]}" tune --worker --storage "$URL" --study-name "$STUDY" > "$OUT/logs/worker-$i.log" 2>&1 &
    PIDS+=("$!")
done

FAILED=0
for i in "${!PIDS[@]}"; do
    if ! wait "${PIDS[$i]}"; then
        if [ "$i" -eq 0 ]; then log="$OUT/logs/main.log"; else log="$OUT/logs/worker-$((i + 1)).log"; fi
        echo "process $((i + 1)) failed; the end of $log:" >&2
        tail -n 20 "$log" >&2
        FAILED=1
        # Without the first process the workers would wait for a study that never comes.
        if [ "$i" -eq 0 ]; then stop_all; fi
    fi
done
PIDS=()  # all have ended: nothing left for the trap to stop
[ "$FAILED" -eq 0 ] || exit 1

echo
# The study as the database holds it, now that every process has ended.
"$PYTHON" - "$URL" "$STUDY" <<'PY'
import sys

import optuna

from s4ts.tuning import open_storage

study = optuna.load_study(study_name=sys.argv[2], storage=open_storage(sys.argv[1]))
states = {}
for trial in study.trials:
    states[trial.state.name] = states.get(trial.state.name, 0) + 1
finished = states.get("COMPLETE", 0) + states.get("PRUNED", 0)
print(f"study {study.study_name!r}: {finished} finished trials, by state {states}")
print(f"best: trial {study.best_trial.number}, value {study.best_value:.4g}, parameters {study.best_trial.params}")
PY
echo "the first process's files (best_params.json, trials.csv, history.png, importances.png, model/) are in $OUT"
