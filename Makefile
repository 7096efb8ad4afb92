# The two commands a new operator needs: `make run` and `make test`.
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Byte-compiles the package, which Python does not keep by itself when
# PYTHONDONTWRITEBYTECODE is set: then no `feeds` process compiles its 8,000
# lines again at every start (32 ms). Files already compiled are skipped; a
# tree that cannot be written to is left as it is.
COMPILE := $(BIN)/python -m compileall -q feeds bench > /dev/null 2>&1 || true

# Test processes at once. Most tests wait: on the servers they start, on
# the time-outs they check, on the `feeds` processes they run. So four of
# them on 2 cores took the suite from 8 minutes to under 3. TEST_JOBS=0
# runs it in one process, one test at a time.
TEST_JOBS ?= 4
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_JOBS)

.PHONY: run build test check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(COMPILE)
	$(BIN)/feeds run -c config.yaml

build: $(STAMP)
	$(COMPILE)
	$(BIN)/feeds build -c config.yaml

test: $(STAMP)
	$(COMPILE)
	$(PYTEST)

# The ingestion benchmark (several minutes): prints the table in the README.
bench: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m bench

# Format check, lint, types, then the tests: the order CI would use.
check: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,lint]'
	$(BIN)/ruff format --check feeds tests bench
	$(BIN)/ruff check feeds tests bench
	$(BIN)/mypy
	$(PYTEST)

clean:
	rm -rf $(VENV) output feeds.db feeds.db-wal feeds.db-shm
