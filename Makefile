# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make reproduce   -- create .venv, install from the lock, run the whole analysis on the embedded data
#   make test        -- create .venv, install from the lock, run the full test suite
# The environment is locked with hashes (requirements/*.lock, made by `make lock` from the ranges in
# pyproject.toml). The installer itself (uv, a PyPI package) is pinned with its hash too.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed
LOCK   := requirements/dev.lock

.PHONY: reproduce test test-quick test-slow docs bench synthetic lock wheel clean

$(STAMP): $(LOCK) requirements/installer.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/installer.lock
	$(UV) pip sync --quiet --python $(PY) --require-hashes $(LOCK)
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(VENV)/bin/ips-study reproduce

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q --durations=15

test-quick: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q -m "not slow"

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

bench: $(STAMP)
	$(UV) pip install --quiet --python $(PY) -e ".[dev,bench]"
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

synthetic: $(STAMP)
	$(PY) -m ips_study.synthetic.embedded

# Regenerate the locks from pyproject.toml's ranges (newest versions the registry serves).
lock: $(STAMP)
	$(UV) pip compile pyproject.toml --extra dev --extra docs --generate-hashes --universal \
	    --python-version 3.11 --quiet --upgrade -o $(LOCK)
	$(UV) pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
	    --quiet -c $(LOCK) -o requirements/runtime.lock

wheel: $(STAMP)
	$(PY) -m build --wheel --outdir dist .

clean:
	rm -rf $(VENV) build dist site *.egg-info .pytest_cache
