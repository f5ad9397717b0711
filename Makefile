# The two promises of the README: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TSTAMP  := $(VENV)/.installed-test
NSTAMP  := node_modules/.installed

.PHONY: run test extension system-deps system-deps-test bench bench-scale bench-verify clean

run: system-deps $(STAMP)
	$(BIN)/testimone serve

test: system-deps-test $(TSTAMP) $(NSTAMP)
	npm run --silent test:extension
	npm run --silent lint:extension
	$(BIN)/python -m pytest

extension: $(NSTAMP)
	npm run --silent build:extension

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TSTAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(NSTAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench: $(TSTAMP)
	$(BIN)/python benchmarks/ingest.py

bench-scale: $(TSTAMP)
	$(BIN)/python benchmarks/scale.py

bench-verify: $(TSTAMP)
	$(BIN)/python benchmarks/verify_bundle.py --cases 10000

clean:
	rm -rf $(VENV) node_modules dist build *.egg-info .pytest_cache

system-deps-test:
	@bash scripts/system-deps.sh --test
