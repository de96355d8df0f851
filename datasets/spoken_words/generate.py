"""Generate the spoken_words corpus (Speech Commands layout) with espeak-ng.

Usage: python datasets/spoken_words/generate.py [--out DIR] [--speakers N] [--repeats R]
Install espeak-ng first with datasets/spoken_words/install_deps.sh.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from s4ts.datasets.speech_commands import SC10_WORDS
from s4ts.datasets.spoken_words import generate_corpus


def main() -> None:
    """Parse arguments, write the corpus and print the file count per split."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "corpus"),
                        help="output directory (default: datasets/spoken_words/corpus, git-ignored)")
    parser.add_argument("--words", default=",".join(SC10_WORDS),
                        help="comma-separated words (default: the SC10 ten)")
    parser.add_argument("--speakers", type=int, default=160, help="accent+variant combinations")
    parser.add_argument("--repeats", type=int, default=2, help="utterances per speaker and word")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="parallel espeak-ng processes")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = generate_corpus(
        args.out,
        words=[w.strip() for w in args.words.split(",") if w.strip()],
        n_speakers=args.speakers,
        repeats=args.repeats,
        validation_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        n_jobs=args.jobs,
    )
    print(json.dumps({"out": args.out, **counts, "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
