# The two commands: `make lab` opens the lessons, `make test` runs the whole test suite.
# Both create (or update) a virtual environment in .venv with the kit installed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.labkit-installed

.PHONY: lab test test-quick notebooks check-notebooks benchmarks clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "labkit needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m labkit.kernel install
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m labkit.kernel install
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) --ServerApp.root_dir="$(CURDIR)" notebooks/00_welcome.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-quick: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

notebooks: $(STAMP)
	$(BIN)/python -m labkit build --record

check-notebooks: $(STAMP)
	$(BIN)/python -m labkit build --check

benchmarks: $(STAMP)
	$(BIN)/python benchmarks/boot.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
