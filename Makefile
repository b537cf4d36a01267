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
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -c constraints-dev.txt -e '.[dev]'
	# gem-llm requires antlr4 4.13 (math-verify) and verl's omegaconf requires antlr4 4.9, so
	# gem-llm comes second and antlr4 goes back to 4.9, which math-verify also supports.
	$(BIN)/python -m pip install 'gem-llm>=0.1'
	$(BIN)/python -m pip install --no-deps 'antlr4-python3-runtime==4.9.3'
	touch $(STAMP)

venv: $(STAMP)

# The offline leaderboard on the bundled LoCoMo-format sample: heuristic manager, extractive
# reader; the Markdown table, results.json and the HTML report in runs/demo.
demo: $(STAMP)
	$(BIN)/memgym eval --dataset locomo --manager heuristic --answerer extractive \
		--out runs/demo --restart
	$(BIN)/memgym report runs/demo --html runs/demo/report.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy memgym

# Headless Chromium (Debian packages) for the HTML report's browser test.
browser:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver)

# The suite, then every README command that needs no network, GPU or real data.
test: lint typecheck browser
	$(BIN)/python -m pytest
	tests/newcomer.sh

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
