# Répertoire — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-postgres test-browser browser-tools install init demo bench bench-tools translations lock clean

# Exact versions (and hashes) of every dependency, extras included, come from requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# `make lock` adds what pyproject.toml gained and keeps every other pin. Upgrading is a deliberate commit:
# `make lock LOCK_ARGS="--upgrade-package pycountry"` (or --upgrade), run the tests, commit requirements.lock.
# pip-tools lives in its own venv so that it never changes the project's.
LOCK_VENV := .venv-lock
LOCK_ARGS ?=
lock:
	[ -x $(LOCK_VENV)/bin/pip-compile ] || ($(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install --quiet pip-tools)
	$(LOCK_VENV)/bin/pip-compile --quiet $(LOCK_ARGS) --generate-hashes --allow-unsafe --all-extras --strip-extras \
	  --no-emit-index-url --no-emit-find-links --output-file=requirements.lock pyproject.toml

install: $(STAMP)

init: $(STAMP)
	$(BIN)/repertoire init

demo: init
	$(BIN)/repertoire demo --if-empty

# `make run HOST=0.0.0.0 PORT=8000`: the links of the mails follow, unless REPERTOIRE_BASE_URL says otherwise.
run: demo
	REPERTOIRE_BASE_URL="$${REPERTOIRE_BASE_URL:-http://$(subst 0.0.0.0,127.0.0.1,$(HOST)):$(PORT)}" \
	  $(BIN)/flask --app repertoire run --host $(HOST) --port $(PORT)

# Shared rate limits are tested on a throwaway Redis server (Debian's redis-server), started here.
test: $(STAMP)
	url=$$(bash .ci/redis.sh start) && \
	  REPERTOIRE_TEST_REDIS_URL=$$url $(BIN)/python -m pytest; status=$$?; \
	  bash .ci/redis.sh stop; exit $$status

# The whole suite again on a real PostgreSQL server, installed and started here.
test-postgres: $(STAMP)
	url=$$(bash .ci/postgres.sh start) && redis=$$(bash .ci/redis.sh start) && \
	  REPERTOIRE_TEST_POSTGRES_URL=$$url REPERTOIRE_TEST_REDIS_URL=$$redis $(BIN)/python -m pytest; status=$$?; \
	  bash .ci/postgres.sh stop; bash .ci/redis.sh stop; exit $$status

# After adding or changing a message: refresh the English catalogue, then fill in the new msgstr.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d repertoire/translations --width 120 --ignore-obsolete

# Browser tests: Playwright (PyPI) drives Debian's Chromium; axe-core comes from npm.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-tools: $(STAMP)
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver)
	npm ci --no-audit --no-fund --loglevel=error

test-browser: browser-tools
	$(BIN)/python -m pytest --browser tests/browser

bench-tools: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || echo "wrk unavailable: the load test will be skipped"

bench: bench-tools
	$(BIN)/python bench/search.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(LOCK_VENV) node_modules tests/artifacts instance index/_MAIN_* index/*.toc index/*.seg index/*.pst index/*.trm bench/out
