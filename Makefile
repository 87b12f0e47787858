# Two commands for a newcomer: `make run` and `make test`. Both install into .venv when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
# Every dependency pinned with its hashes: the base install plus the test and local extras (make
# install), and the base install alone (the container image); both written by `make lock`.
LOCK := requirements.lock
RUNTIME_LOCK := requirements-runtime.lock
UV_VERSION := 0.13.8
LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 --python-platform linux --custom-compile-command 'make lock'

.PHONY: install lock run test test-memory test-wire lint bench fuzz contract create-indexes clean

install: $(STAMP)

# Installs exactly the lock, then the project itself without resolving anything; pip check fails
# when pyproject.toml asks for something the lock lacks (then: make lock).
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	@$(BIN)/python -m pip check || { echo "pyproject.toml and $(LOCK) disagree: run make lock"; exit 1; }
	@touch $(STAMP)

# Re-resolves after a change of pyproject.toml, keeping the pins it can; LOCK_ARGS=--upgrade takes
# the newest releases allowed. The runtime lock is constrained by the full one: same versions.
lock:
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml --extra test --extra local $(LOCK_FLAGS) $(LOCK_ARGS) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml -c $(LOCK) $(LOCK_FLAGS) -o $(RUNTIME_LOCK)

run: install
	PORT=$(PORT) $(BIN)/gunicorn -c python:clinic_api.gunicorn_conf clinic_api.asgi:app

# The whole suite twice: on the in-memory store, then on the wire (a SecantusDB server the session
# starts itself, or the MongoDB named by CLINIC_TEST_MONGODB_URI, e.g. a replica set).
test: test-memory test-wire

test-memory: install
	CLINIC_TEST_STORE=memory $(BIN)/python -m pytest $(PYTEST_ARGS)

test-wire: install
	CLINIC_TEST_STORE=secantus $(BIN)/python -m pytest $(PYTEST_ARGS)

# Quality gates, each able to fail: ruff (pyproject.toml), mypy on clinic_api (pyproject.toml states
# the strictness), the spec lint of clinic.v1.yaml, and the contract and layering tests (the
# published contract is kept in tests/contract/ as test data).
lint: install
	$(BIN)/ruff check clinic_api tests bench
	$(BIN)/mypy clinic_api
	$(BIN)/python tests/support/spec_lint.py
	CLINIC_TEST_STORE=memory $(BIN)/python -m pytest -q tests/test_contract_parity.py tests/test_architecture.py

contract: install
	CLINIC_TEST_STORE=memory $(BIN)/python -m pytest -q tests/test_contract_parity.py

# Per clinic size (1k, 10k, 50k) and store (memory, SecantusDB): p50/p95, growth, commands per request,
# and the pipeline against a bare Flask twin. BENCH_ARGS="--sizes 1000 --stores memory" for a short run.
# The schema-generated run, longer and with a fresh random seed (issue 12): FUZZ_EXAMPLES per
# operation (default 150), FUZZ_SEED=<n> to replay a run, FUZZ_STORE=secantus on the wire; the seed
# is printed first and on failure.
fuzz: install
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; echo "fuzz seed: $$seed"; \
	CLINIC_TEST_STORE=$${FUZZ_STORE:-memory} CLINIC_FUZZ_SEED=$$seed CLINIC_FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-150} \
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz_schemathesis.py $(PYTEST_ARGS) \
	|| { echo "fuzz failed with seed $$seed: make fuzz FUZZ_SEED=$$seed FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-150}"; exit 1; }

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

create-indexes: install
	$(BIN)/clinic-api create-indexes

clean:
	rm -rf $(VENV) build dist *.egg-info
