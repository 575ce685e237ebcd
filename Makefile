# Vein-to-vein tracker: developer commands. `make run` is all a fresh clone needs.
#
#   make / make venv   .venv with the runtime and development locks (redone when either lock changes)
#   make run           PostgreSQL + Redis (embedded unless DATABASE_URL / REDIS_URL are set), migrate,
#                      demo data, then the Procfile under honcho: web on http://127.0.0.1:8000 (PORT=...),
#                      Celery worker and beat; Ctrl-C stops all
#   make test          the whole test suite against the same kind of stack; PYTEST_ARGS="-k custody -x" passes options
#   make test-fast     the same without the slow tests (browser, Celery worker, devstack): the edit-test loop
#   make bench         the programme benchmark (one table, ours against a baseline) in a database of its own;
#                      SMOKE=1 on small data in minutes; BENCH_ARGS="scan --sizes 100000" for the older tables
#   make services      only PostgreSQL and Redis, until Ctrl-C
#   make lint / fmt    ruff check + format check / apply ruff's fixes and formatting
#   make typecheck     mypy (with django-stubs and djangorestframework-stubs), configured in pyproject.toml
#   make hooks         install the pre-commit hooks (.pre-commit-config.yaml: ruff and mypy) into git
#   make lock          re-pin requirements.in / requirements-dev.in into their locks (LOCK_ARGS=--upgrade to upgrade)
#   make clean-state   delete .state (all local data), only when nothing runs from it

SHELL := /bin/bash
.DEFAULT_GOAL := venv

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCKS := requirements.lock requirements-dev.lock
PYTEST_ARGS ?=
BENCH_ARGS ?=
LOCK_ARGS ?=

.PHONY: venv run test test-fast bench services lint fmt typecheck hooks lock clean-state

venv: $(STAMP)

# The stamp is touched only after a complete install, so an interrupted one is redone.
$(STAMP): $(LOCKS)
	@set -euo pipefail; \
	if [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "make: updating $(VENV) from $(LOCKS)"; \
	else \
		python="$$(scripts/find-python)"; \
		echo "make: creating $(VENV) with $$python ($$("$$python" -V 2>&1))"; \
		rm -rf $(VENV); \
		"$$python" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes $(addprefix -r ,$(LOCKS)); \
	touch $(STAMP); \
	echo "make: $(VENV) is ready"

# `exec` makes Python the process that make waits on, so Ctrl-C and SIGTERM reach it directly
# and it can stop its servers before make returns.
run: $(STAMP)
	exec $(PY) -m devstack run

# The browser tests drive Debian's chromium through Playwright (never a browser Playwright downloads).
# Installing it is the one step that needs root (CI runs as root); `make test-fast` does without it.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		echo "make: installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "make: the browser tests need Debian's chromium: sudo apt-get install chromium (or make test-fast)"; exit 1; \
	fi

test: $(STAMP) $(CHROMIUM)
	exec $(PY) -m devstack test $(PYTEST_ARGS)

# Markers in pyproject.toml; tests/conftest.py marks every browser, Celery worker and devstack test slow.
test-fast: $(STAMP)
	exec $(PY) -m devstack test -m "not slow" $(PYTEST_ARGS)

# Benchmarks print tables (not timed tests, outside the suite): by default the programme benchmark (benchmarks/
# programme.py: generate_load at 20,000 patients, each operation against a baseline in the same run).
SMOKE ?=
bench: $(STAMP)
	exec $(PY) -m devstack bench $(if $(SMOKE),--smoke) $(BENCH_ARGS)

services: $(STAMP)
	exec $(PY) -m devstack services

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

hooks: $(STAMP)
	$(VENV)/bin/pre-commit install

# Pins for the interpreter in .venv (Python 3.13 on Linux x86_64 when the locks were made). The runtime
# lock comes first: requirements-dev.in is constrained by it (-c), so shared packages get one version.
# No index/find-links lines: the locks must work on any machine that reaches PyPI. A lock is replaced
# only when it changes, so an unchanged re-pin does not make the venv reinstall.
lock: $(STAMP)
	@set -euo pipefail; \
	for name in requirements requirements-dev; do \
		cp $$name.lock $$name.lock.new; \
		CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
			--allow-unsafe --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) \
			--output-file $$name.lock.new $$name.in || { rm -f $$name.lock.new; exit 1; }; \
		if cmp -s $$name.lock.new $$name.lock; then \
			rm $$name.lock.new; echo "make: $$name.lock unchanged"; \
		else \
			mv $$name.lock.new $$name.lock; echo "make: $$name.lock updated; the next make reinstalls"; \
		fi; \
	done

clean-state: $(STAMP)
	exec $(PY) -m devstack clean-state
