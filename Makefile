# Two entry points (see README): `make demo` runs the main job, `make test` the tests.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
# torch first, pinned: a CPU wheel here; on a CUDA machine pip picks the matching build.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= dev
BIN := $(VENV)/bin

.PHONY: venv test demo bench docs lint clean

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

docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

lint: venv
	$(BIN)/python -m ruff check s4ts tests benchmarks examples datasets scripts

clean:
	rm -rf $(VENV) out site .pytest_cache
