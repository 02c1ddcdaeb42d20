# The two commands a user needs: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: serve test lint contracts typecheck docs unit install install-test clean

serve: install
	$(BIN)/medialib serve

test: install-test lint contracts typecheck docs unit

lint: install-test
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

contracts: install-test
	$(BIN)/lint-imports --no-cache

typecheck: install-test
	$(BIN)/mypy

# The docs site (mkdocs.yml, docs/) into site/; --strict: a broken link or anchor fails.
docs: install-test
	$(BIN)/mkdocs build --strict

# Both cores: most tests wait on servers, stores and subprocesses. Whole modules go to one
# worker (--dist loadscope), so a module's fixtures start once; PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2
unit: install-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
