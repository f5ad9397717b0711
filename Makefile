# The two promises of the README: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test

.PHONY: run test system-deps system-deps-test bench clean

run: system-deps $(STAMP)
	$(BIN)/testimone serve

test: system-deps-test $(TSTAMP)
	$(BIN)/python -m pytest

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TSTAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

bench: $(TSTAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) dist build *.egg-info .pytest_cache

system-deps-test:
	@bash scripts/system-deps.sh --test
