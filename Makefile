# Two commands do all set-up on a fresh machine with Python 3.11 and pip:
#   make reproduce   -- create .venv, install, run the whole analysis on the embedded synthetic data
#   make test        -- create .venv, install, run the full test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: reproduce test test-quick bench synthetic clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

reproduce: $(STAMP)
	MPLBACKEND=Agg $(PY) -m analysis

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q

test-quick: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n 2 -q -m "not slow"

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	for f in benchmarks/bench_*.py; do $(PY) $$f || exit 1; done

synthetic: $(STAMP)
	$(PY) -m ips_study.synthetic.embedded

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
