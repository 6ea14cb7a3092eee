# optlab: every target bootstraps .venv (and installs the project with its extras) when missing.
# On a new machine `make figures` and `make test` are the whole set-up.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.optlab-installed
EXTRAS := dev,peers,dist

# Real data: ../shared/data when it exists (see optlab.data); an explicit OPTLAB_DATA wins.
ifeq ($(origin OPTLAB_DATA), undefined)
ifneq ($(wildcard ../shared/data),)
OPTLAB_DATA := $(abspath ../shared/data)
endif
endif
export OPTLAB_DATA
export MPLBACKEND := Agg

ARGS ?=

.PHONY: all figures quick test check bench bench-envs lint report venv clean

all: figures

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: $(STAMP)

## main job: every paper figure, the claims suite (fast + full tiers) and figures/out/REPORT.md
figures: $(STAMP)
	$(PY) -m optlab figures $(ARGS)

## the same in a few minutes (small instances, fast claim tier)
quick: $(STAMP)
	$(PY) -m optlab figures --quick $(ARGS)

## unit tests + fast claim instances (what CI runs)
test: $(STAMP)
	$(PY) -m pytest -m "not slow" -q --doctest-modules optlab problems tests theory_checks $(ARGS)

## full rate-verification suite (fast + slow claims); writes figures/out/claims.json and REPORT.md
check: $(STAMP)
	$(PY) -m optlab check $(ARGS)

## side-by-side benchmarks against the peers; writes benchmarks/out/ratios.md
bench: $(STAMP)
	$(PY) -m optlab bench $(ARGS)

## optional side environments for peers that conflict with .venv (never needed by make test):
## fancyimpute needs scikit-learn < 1.8, jaxopt pulls jax, pyscnn pulls torch (CPU wheel here).
## make bench uses each one when it exists and says so when it does not.
bench-envs:
	@test -x .venv-bench-lowrank/bin/python || $(PYTHON) -m venv .venv-bench-lowrank
	.venv-bench-lowrank/bin/pip install --quiet numpy scipy "scikit-learn<1.8" fancyimpute
	@test -x .venv-bench-bilevel/bin/python || $(PYTHON) -m venv .venv-bench-bilevel
	.venv-bench-bilevel/bin/pip install --quiet numpy scipy jax jaxopt
	@test -x .venv-bench-relu/bin/python || $(PYTHON) -m venv .venv-bench-relu
	.venv-bench-relu/bin/pip install --quiet torch --index-url https://download.pytorch.org/whl/cpu
	.venv-bench-relu/bin/pip install --quiet pyscnn

## REPORT.md / report.html / claims.json from the last recorded verdicts
report: $(STAMP)
	$(PY) -m optlab report $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf figures/out benchmarks/out .pytest_cache .ruff_cache
