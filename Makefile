# Vein-to-vein tracker: developer commands. `make run` is all a fresh clone needs.
#
#   make / make venv   .venv with the locked dependencies (redone when requirements.lock changes)
#   make run           PostgreSQL + Redis (embedded unless DATABASE_URL / REDIS_URL are set), migrate,
#                      demo data, web on http://127.0.0.1:8000 (PORT=...), Celery worker and beat; Ctrl-C stops all
#   make test          the test suite against the same kind of stack; PYTEST_ARGS="-k custody -x" passes options
#   make bench         benchmarks (printed tables) in a database of their own; BENCH_ARGS="scan --sizes 100000"
#   make services      only PostgreSQL and Redis, until Ctrl-C
#   make lint / fmt    ruff check + format check / apply ruff's fixes and formatting
#   make lock          re-pin requirements.in into requirements.lock (LOCK_ARGS=--upgrade to upgrade)
#   make clean-state   delete .state (all local data), only when nothing runs from it

SHELL := /bin/bash
.DEFAULT_GOAL := venv

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
LOCK_ARGS ?=

BENCH_ARGS ?=

.PHONY: venv run test bench services lint fmt lock clean-state

venv: $(STAMP)

# The stamp is touched only after a complete install, so an interrupted one is redone.
$(STAMP): requirements.lock
	@set -euo pipefail; \
	if [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "make: updating $(VENV) from requirements.lock"; \
	else \
		python="$$(scripts/find-python)"; \
		echo "make: creating $(VENV) with $$python ($$("$$python" -V 2>&1))"; \
		rm -rf $(VENV); \
		"$$python" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock; \
	touch $(STAMP); \
	echo "make: $(VENV) is ready"

# `exec` makes Python the process that make waits on, so Ctrl-C and SIGTERM reach it directly
# and it can stop its servers before make returns.
run: $(STAMP)
	exec $(PY) -m config.devstack run

# The browser tests drive Debian's chromium through Playwright (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		echo "make: installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "make: the browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	fi

test: $(STAMP) $(CHROMIUM)
	exec $(PY) -m config.devstack test $(PYTEST_ARGS)

# Benchmarks print tables (not timed tests): the monitoring scan at 100,000 and 1,000,000 checks,
# and a patient timeline of 5,000 events (selector, API, page, FHIR).
bench: $(STAMP)
	exec $(PY) -m config.devstack bench $(BENCH_ARGS)

services: $(STAMP)
	exec $(PY) -m config.devstack services

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Pins for the interpreter in .venv (Python 3.13 on Linux x86_64 when the lock was made).
# No index/find-links lines: the lock must work on any machine that reaches PyPI. The lock is
# replaced only when it changes, so an unchanged re-pin does not make the venv reinstall.
lock: $(STAMP)
	@set -euo pipefail; \
	cp requirements.lock requirements.lock.new; \
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
		--allow-unsafe --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) \
		--output-file requirements.lock.new requirements.in || { rm -f requirements.lock.new; exit 1; }; \
	if cmp -s requirements.lock.new requirements.lock; then \
		rm requirements.lock.new; echo "make: requirements.lock unchanged"; \
	else \
		mv requirements.lock.new requirements.lock; echo "make: requirements.lock updated; the next make reinstalls"; \
	fi

clean-state: $(STAMP)
	exec $(PY) -m config.devstack clean-state
