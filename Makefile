# rareflow: two commands. `make run` sets up and runs the main job; `make test` sets up and tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest test-fast test-long bench docs notebooks screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name rareflow --display-name "Python (rareflow)"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rareflow chain --country IND
	$(BIN)/rareflow run china-2025-april --draws 1000 --seed 1

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples fuzz docs/screenshots.py docs/examples
	$(BIN)/ruff format --check src tests bench examples fuzz docs/screenshots.py docs/examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

test: lint typecheck pytest bench-quick

# The quick loop while developing: no slow tests, no browser tests (make test runs both).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not browser"

# Property tests with fresh random examples, ten times as many (tests/conftest.py profiles).
test-long: $(STAMP)
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest -n 2 -q -m "not browser"

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

docs: $(STAMP)
	$(BIN)/python -m rareflow.data.doccounts README.md docs/dataset.md || true
	$(BIN)/python -m rareflow.analysis.supply_table docs/levers-supply.md

# Re-run the example notebooks at their own ensemble sizes and store their outputs.
notebooks: $(STAMP)
	$(BIN)/python examples/execute.py

# The README's screenshots of the report and dashboard, from the current code (needs chromium).
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

# Every benchmark at a small size, so that none can rot (part of `make test`; under a minute).
bench-quick: $(STAMP)
	cd bench && ../$(BIN)/python engine.py --draws 200 --months 12 --reference-draws 2
	cd bench && ../$(BIN)/python store.py --draws 200 --months 12
	cd bench && ../$(BIN)/python startup.py --draws 100 --repeats 1
	cd bench && ../$(BIN)/python stocks.py --quick --repeats 1
	cd bench && ../$(BIN)/python optimize.py --quick
	cd bench && ../$(BIN)/python scaling.py --draws 200 --months 12 --chunk 100 --repeats 1
	cd bench && ../$(BIN)/python million.py --draws 2000 --workers 1 --chunk 1000
	cd bench && ../$(BIN)/python dashboard.py --draws 100 --repeats 1

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
