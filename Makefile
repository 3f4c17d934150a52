# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# torch==2.13.0 is installed before the project: it is the CPU build that lies on disk;
# a looser request would download a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m matrixcalc.demo

# A fixed hash seed: Hypothesis draws the same examples on every machine and run (its
# search depends on set order); tests/test_derive.py checks outputs under several seeds.
test: $(STAMP)
	PYTHONHASHSEED=0 $(PY) -m pytest

fuzz: $(STAMP)
	$(PY) -m pytest --runslow -k fuzz

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info
