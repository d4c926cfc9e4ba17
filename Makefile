# Every target but `install` runs inside .venv, which `make install` creates.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU build of torch lies on this kind of machine's disk; on a GPU machine pip's default build is used.
TORCH_CPU ?= torch==2.13.0
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo yes)
# `make train`: the recipe whose music is closest to Mozart's on held-out sonatas (an experiment preset, with its
# own time limit), on a CUDA GPU when torch sees one, else on the CPU, in bf16-mixed where the CPU has a native
# bfloat16 LSTM and in float32 elsewhere (trainer.precision=auto, docs/cpu_bf16.md)
RECIPE ?= recipe
# Test processes (pytest-xdist): one per core. --dist loadfile keeps a test file's tests, and so its module
# fixtures, on one worker; files go out in collection order, which tests/conftest.py starts with the slow ones.
# `make test TEST_WORKERS=0` runs in this process alone.
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# Whether the installed torch sees a CUDA GPU (nvidia-smi alone does not say that torch can use it)
TORCH_HAS_CUDA = $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"

.PHONY: help install train train-lab smoke generate inverse bench tensorboard test test-fast test-all lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install:  ## create .venv and install the project with its dev extra
	$(PYTHON) -m venv $(VENV)
ifneq ($(HAS_GPU),yes)
	$(PY) -m pip install $(TORCH_CPU)
endif
	$(PY) -m pip install -e '.[dev]'
	touch $(STAMP)

# Targets that need the environment install it first when it is missing or pyproject.toml changed.
$(STAMP): pyproject.toml
	$(MAKE) install

train: $(STAMP)  ## the recipe, within an hour: timed tokens, held-out sonatas, the sampler calibrated (docs/recipe.md)
	@if $(TORCH_HAS_CUDA); then set -x; $(PY) train.py experiment=$(RECIPE) trainer=gpu $(ARGS); \
	else set -x; $(PY) train.py experiment=$(RECIPE) trainer.precision=auto cpu_fallback=true $(ARGS); fi

train-lab: $(STAMP)  ## the lab's network and data: 20 sonatas, 30 epochs, hidden 512 (a GPU wanted); ARGS=experiment=lab adds the lab's carried state
	$(PY) train.py $(ARGS)

smoke: $(STAMP)  ## a tiny end-to-end training run, under a minute on a laptop CPU
	$(PY) train.py experiment=smoke $(ARGS)

generate: $(STAMP)  ## compose mozart.mid with the newest run's checkpoint and its calibrated sampler, or CKPT=...
	$(PY) generate.py $(if $(CKPT),ckpt=$(CKPT)) $(ARGS)

inverse: $(STAMP)  ## the inverse-problem task
	$(PY) inverse.py $(ARGS)

bench: $(STAMP)  ## project vs the lab's way, side by side
	$(PY) -m bench $(ARGS)

tensorboard: $(STAMP)  ## serve every run under outputs/
	$(VENV)/bin/tensorboard --logdir outputs

test: $(STAMP)  ## every test, both tiers, one process per core (what CI runs)
	$(PYTEST)

test-fast: $(STAMP)  ## the fast tier only
	$(PYTEST) -m "not slow"

test-all: lint test  ## lint, then every test

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check src tests bench train.py generate.py inverse.py

clean:  ## remove caches and build leftovers (keeps outputs/ and .venv)
	rm -rf .pytest_cache .ruff_cache build src/*.egg-info
	find . -name __pycache__ -prune -exec rm -rf {} +
