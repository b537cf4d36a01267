# Two entry points for a fresh machine: `make demo` (offline leaderboard on bundled data)
# and `make test` (lint, type check, tests). Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.memgym-installed
# hnswlib compiles from source; -march=native would tie the build to this CPU.
export HNSWLIB_NO_NATIVE := 1
export HF_HUB_OFFLINE := 1

.PHONY: venv demo test lint typecheck bench clean

$(STAMP): setup.cfg pyproject.toml constraints-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -c constraints-dev.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The offline leaderboard on the bundled LoCoMo-format sample: heuristic manager, extractive reader.
demo: $(STAMP)
	$(BIN)/memgym eval --dataset locomo --manager heuristic --answerer extractive \
		--out runs/demo --restart

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy memgym

test: lint typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
