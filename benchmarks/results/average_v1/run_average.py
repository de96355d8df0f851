"""benchmarks/defaults.py with S4Forecaster keeping the mean of the best AVERAGE epochs' weights.

    AVERAGE=3 OMP_NUM_THREADS=1 S4TS_DATA=../shared/data/ETT .venv/bin/python \
        benchmarks/results/average_v1/run_average.py --split validation --seeds 0 --threads 1 --out DIR
"""

import os
import runpy
import sys

from s4ts.forecasting import training

training.AVERAGE_BEST_EPOCHS = int(os.environ["AVERAGE"])
sys.argv = ["benchmarks/defaults.py", *sys.argv[1:]]
runpy.run_path("benchmarks/defaults.py", run_name="__main__")
