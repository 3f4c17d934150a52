# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# torch==2.13.0 is installed before the project: it is the CPU build that lies on disk;
# a looser request would download a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench browser web-bench clean

$(STAMP): pyproject.toml
	@echo "== creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "== installing torch 2.13.0 (the CPU build; about a minute)"
	$(PY) -m pip install --quiet torch==2.13.0
	@echo "== installing matrixcalc with its extras: torch, jax, web, dev (a few minutes)"
	$(PY) -m pip install --quiet -e '.[torch,jax,web,dev]'
	@echo "== set-up done"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m matrixcalc.demo

# A fixed hash seed: Hypothesis draws the same examples on every machine and run (its
# search depends on set order); tests/test_derive.py checks outputs under several seeds.
test: $(STAMP) browser
	PYTHONHASHSEED=0 $(PY) -m pytest

# The browser tests drive Debian's chromium through Selenium. Installed here when absent
# and possible (root with apt-get); otherwise those tests skip and say how to install it.
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium chromium-driver >/dev/null) \
	  || echo "could not install chromium: the browser tests will skip"; \
	else echo "no chromium: the browser tests will skip (as root: make browser;" \
	  "or apt-get install chromium chromium-driver)"; fi

fuzz: $(STAMP)
	$(PY) -m pytest --runslow -k fuzz

# tensorgrad, a peer of the derivation benchmark, lives in a venv of its own (its
# dependencies are not the project's); bench/run.py skips it when the venv is absent.
TG_VENV := bench/.venv-tensorgrad
$(TG_VENV)/.installed:
	@echo "== creating $(TG_VENV) for the tensorgrad peer (torch 2.13.0 CPU, tensorgrad 0.3.0)"
	$(PYTHON) -m venv $(TG_VENV)
	$(TG_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TG_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(TG_VENV)/bin/python -m pip install --quiet tensorgrad==0.3.0
	touch $(TG_VENV)/.installed

bench: $(STAMP) $(TG_VENV)/.installed
	$(PY) bench/run.py

# The web page under load: 8 clients for 60 s against `matrixcalc serve` (bench/RESULTS.md)
web-bench: $(STAMP)
	$(PY) bench/web_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info
