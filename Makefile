# Two commands for a newcomer: `make run` and `make test`. Both install into .venv when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: install run test lint bench contract create-indexes clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

run: install
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py clinic_api.asgi:app

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/python -m compileall -q clinic_api tests
	$(BIN)/python ../shared/tools/spec_parity.py || true

contract: install
	$(BIN)/python ../shared/tools/spec_parity.py

bench: install
	$(BIN)/python bench/list_patients.py

create-indexes: install
	$(BIN)/clinic-api create-indexes

clean:
	rm -rf $(VENV) build *.egg-info
