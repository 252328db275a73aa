# Two entry points (see README): `make book` builds the book at the quick profile, `make test` runs every check.
# Both create or reuse a local virtual environment in .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= quick
STAMP := $(VENV)/.installed

.PHONY: book test unit lint clean

# (the install silences setuptools' editable-install notice about same-named folders: it does not apply here)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e ".[book,dev]"
	touch $(STAMP)

book: $(STAMP)
	env -u MPLBACKEND $(VENV)/bin/gridbook book --profile $(PROFILE)

test: $(STAMP)
	env -u MPLBACKEND VENV=$(VENV) bash .ci/checks.sh

unit: $(STAMP)
	$(PY) -m pytest -q -n 2 tests

lint: $(STAMP)
	$(VENV)/bin/ruff check gridbook tests benchmarks
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) book/_build
