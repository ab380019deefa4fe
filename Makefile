# Two commands matter: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg
# pip and setuptools talk a lot; their output is kept in a log and shown only when a step fails.
QUIETLY = > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }

.PHONY: demo test lint docs bench lab sandbox clean mutation

$(PY):
	@echo "creating $(VENV) ..."
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip $(QUIETLY)

$(VENV)/.installed-notebooks: setup.cfg pyproject.toml | $(PY)
	@echo "installing the kit and the notebook extras into $(VENV) ..."
	@$(PY) -m pip install --quiet -e ".[notebooks]" $(QUIETLY)
	@touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(PY)
	@echo "installing the kit and the development extras into $(VENV) ..."
	@$(PY) -m pip install --quiet -e ".[dev]" $(QUIETLY)
	@touch $@ $(VENV)/.installed-notebooks

demo: $(VENV)/.installed-notebooks
	@$(PY) -m fsi_patron_kit.cli demo --output build/demo

test: $(VENV)/.installed-dev
	$(PY) -m ruff check fsi_patron_kit tests benchmarks notebooks
	$(PY) -m pytest tests notebooks $(NBVAL)
	$(PY) -m mkdocs build --strict --quiet --site-dir build/site

docs: $(VENV)/.installed-dev
	$(PY) -m mkdocs build --strict --site-dir build/site

bench: $(VENV)/.installed-dev
	$(PY) benchmarks/bench_export.py
	$(PY) benchmarks/bench_fsi.py
	$(PY) benchmarks/bench_audit.py
	$(PY) benchmarks/bench_bulk.py

# Mutation testing of the modules that guard secrets, retries, answers and frames (slow: not part
# of `make test`). One module at a time on two workers; the score table is printed at the end.
MUTATED := fsi_patron_kit._redact fsi_patron_kit._frames fsi_patron_kit.fsi._wire fsi_patron_kit.folio._wire fsi_patron_kit._http \
	fsi_patron_kit.polaris.conversation fsi_patron_kit.workflows.journal

mutation: $(VENV)/.installed-dev
	rm -rf mutants && mkdir -p build
	for module in $(MUTATED); do \
		echo "mutmut: $$module"; \
		$(VENV)/bin/mutmut run --max-children 2 "$$module.*" > build/mutation-$$module.log 2>&1 \
			|| { tail -20 build/mutation-$$module.log; exit 1; }; \
	done
	$(PY) benchmarks/mutation.py

lab: $(VENV)/.installed-notebooks
	$(PY) -m jupyter lab notebooks

sandbox: $(VENV)/.installed-notebooks
	$(PY) -m fsi_patron_kit.cli sandbox

clean:
	rm -rf build $(VENV) *.egg-info mutants
