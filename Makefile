# Two commands matter: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: demo test lint docs bench sandbox clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-notebooks: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[notebooks]"
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-notebooks

demo: $(VENV)/.installed-notebooks
	$(PY) -m fsi_patron_kit.cli demo --output build/demo

test: $(VENV)/.installed-dev
	$(PY) -m ruff check fsi_patron_kit tests benchmarks
	$(PY) -m pytest tests notebooks $(NBVAL)
	$(PY) -m mkdocs build --strict --quiet --site-dir build/site

docs: $(VENV)/.installed-dev
	$(PY) -m mkdocs build --strict --site-dir build/site

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench_fsi.py

sandbox: $(VENV)/.installed-notebooks
	$(PY) -m fsi_patron_kit.cli sandbox

clean:
	rm -rf build $(VENV) *.egg-info
