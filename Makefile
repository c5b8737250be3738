# The two commands of the quick start: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3
# Two workers: the machines here have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,lint]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/gastown demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Bug-finding ruff rules, the layer contracts (pyproject.toml), no import
# cycles among our modules (function-local imports included), no function-local
# import of our own modules without a comment saying why it is deferred, and the
# core's types (mypy; the checked packages and settings are [tool.mypy] in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check gastown_tui widgets tests tools benchmarks
	$(VENV)/bin/lint-imports
	$(PY) tools/import_graph.py cycles
	$(PY) tools/import_graph.py local --uncommented
	$(VENV)/bin/mypy

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
