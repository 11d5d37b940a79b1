# The README's two commands: `make demo` and `make test`. Both build .venv from nothing when it is
# missing and reinstall only when pyproject.toml changed (the stamp files below).
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: test demo bench venv testdata clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=python3.x (>= 3.10)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -e ".[test,bench]"
	touch $@

venv: $(VENV)/.installed-test

# Real test data that ships in Debian packages (see scripts/system-packages.txt); a no-op when present.
testdata:
	@bash scripts/install_system_data.sh

test: $(VENV)/.installed-test testdata
	$(PY) -m pytest tests

demo: $(VENV)/.installed-test
	$(PY) scripts/demo.py

bench: $(VENV)/.installed-bench
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
