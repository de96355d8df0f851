# Two entry points (see README): `make demo` runs the main job, `make test` the tests.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
# torch first, pinned: a CPU wheel here; on a CUDA machine pip picks the matching build.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev
BIN := $(VENV)/bin

.PHONY: venv test demo bench docs figures lint clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

test: venv
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

demo: venv
	$(BIN)/python examples/forecast_vic_elec.py --out out/demo

bench: venv
	$(BIN)/python benchmarks/kernel_speed.py

# The docs' figures, from the examples at their full settings (a few minutes each, 2 cores).
GALLERY := out/gallery
figures: venv
	$(BIN)/python examples/forecast_vic_elec.py --quiet --out $(GALLERY)/demo
	$(BIN)/python examples/forecast_csv.py --out $(GALLERY)/csv
	$(BIN)/python examples/irregular_timestamps.py --out $(GALLERY)/irregular
	$(BIN)/python examples/zero_shot_rate.py --out $(GALLERY)/rate
	$(BIN)/python examples/streaming_updates.py --out $(GALLERY)/streaming
	$(BIN)/python examples/classify_speech.py --out $(GALLERY)/speech
	rm -rf $(GALLERY)/tune  # a fresh study: the picture shows this run's trials only
	$(BIN)/python examples/tune_forecaster.py --quiet --out $(GALLERY)/tune
	$(BIN)/python examples/gluonts_retail.py --out $(GALLERY)/gluonts
	mkdir -p docs/figures
	cp $(GALLERY)/demo/forecast.png docs/figures/demo_forecast.png
	cp $(GALLERY)/demo/backtest.png docs/figures/demo_backtest.png
	cp $(GALLERY)/csv/forecast.png docs/figures/csv_forecast.png
	cp $(GALLERY)/irregular/irregular.png docs/figures/irregular.png
	cp $(GALLERY)/rate/rates.png docs/figures/rates.png
	cp $(GALLERY)/streaming/streaming.png docs/figures/streaming.png
	cp $(GALLERY)/speech/confusion.png docs/figures/confusion.png
	cp $(GALLERY)/tune/history.png docs/figures/tune_history.png
	cp $(GALLERY)/gluonts/forecast.png docs/figures/gluonts_forecast.png
	$(BIN)/python benchmarks/figures.py --out docs/figures

docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: venv
	$(BIN)/python -m ruff check s4ts tests benchmarks examples datasets scripts

clean:
	rm -rf $(VENV) out site .pytest_cache
