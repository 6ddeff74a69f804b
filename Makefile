# Répertoire — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install init demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

init: $(STAMP)
	$(BIN)/repertoire init

demo: init
	$(BIN)/repertoire demo --if-empty

run: demo
	$(BIN)/flask --app repertoire run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) instance index/_MAIN_* index/*.toc index/*.seg index/*.pst index/*.trm bench/out
