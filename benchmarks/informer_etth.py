"""Informer long-horizon benchmark on ETTh1/ETTh2, writing into benchmarks/results.

Same as `s4ts bench informer` with the recorded defaults; any option of that command overrides
them, e.g. `python benchmarks/informer_etth.py --dataset ETTh1 --features S`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from s4ts.bench import informer

# Output settings of the runs in benchmarks/results; the S4Forecaster arguments of each recorded
# run are in its command in benchmarks/results/README.md (unset ones: the estimator's defaults).
RECORDED = {
    "dataset": ["ETTh1"],
    "features": ["S"],
    "out": "benchmarks/results",
    "threads": 2,
}


def main() -> int:
    """Parse the `s4ts bench informer` options with the recorded defaults and run."""
    # Per-epoch progress on stderr: a full table takes tens of minutes on a small CPU.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    informer.add_arguments(parser)
    parser.set_defaults(**RECORDED)
    print(informer.run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
