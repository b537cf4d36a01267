# Two entry points for a fresh machine: `make demo` (offline leaderboard on bundled data)
# and `make test` (lint, type check, tests). Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.memgym-installed
# hnswlib compiles from source; -march=native would tie the build to this CPU.
export HNSWLIB_NO_NATIVE := 1
export HF_HUB_OFFLINE := 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv demo test lint typecheck browser bench clean

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

# Headless Chromium (Debian packages) for the HTML report's browser test.
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver)

test: lint typecheck browser
	$(BIN)/python -m pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
