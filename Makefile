# Two commands for a fresh clone: `make test` and `make demo`. Each sets up .venv on first use.
#   make test    install the pinned versions (constraints.txt) with every extra, then the README's pytest command
#                (PYTHONHASHSEED=0: set iteration order, and so every hypothesis draw, is the same in every run)
#   make demo    the CIFAR-10 cross-check through the torch, timm and fastai adapters (DEMO_ARGS="--data DIR ...")
#   make docs    build the docs site strictly into site/ (open site/index.html from disk, or:)
#   make serve-docs  serve the docs at http://127.0.0.1:8000 (rebuilds on change)
#   make docs-screenshots  PNGs of the built site's home and API pages in headless Chromium (not in CI)
#   make lint    ruff check and ruff format --check
# TORCH_INDEX=https://download.pytorch.org/whl/cpu installs the CPU-only torch wheels (no 6.6 GB CUDA download).

PYTHON ?= python3
VENV ?= .venv
EXTRAS := all,dev,examples,docs,integration,tune
TORCH_INDEX ?=
DEMO_ARGS ?=

PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_INDEX_ARG := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)

.PHONY: test demo docs serve-docs docs-screenshots lint setup

setup: $(STAMP)

# Re-installs only when pyproject.toml or constraints.txt change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(TORCH_INDEX_ARG) -c constraints.txt torch torchvision
	$(PY) -m pip install -c constraints.txt -e ".[$(EXTRAS)]"
	touch $@

test: $(STAMP)
	PYTHONHASHSEED=0 $(PY) -m pytest

demo: $(STAMP)
	$(PY) -m benchmarks.demo $(DEMO_ARGS)

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

serve-docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve

docs-screenshots: docs
	docs/hooks/screenshots.sh site runs/docs-screenshots

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
