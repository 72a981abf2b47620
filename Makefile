# rlnotes: `make book`, `make test`, `make lab`. Each target creates .venv on first use and
# reinstalls when requirements.txt or pyproject.toml change.
#
# How `make test` avoids executing every notebook twice: nbval executes each chapter once
# (pytest --nbval-lax) and tests/nbcache.py stores the executed notebook in the book's
# jupyter-cache (_build/.jupyter_cache); the warning-checking build that follows
# (-W -n, execute_notebooks: cache) then renders those outputs without running a cell.
# `make book` empties the cache first, so it executes every chapter itself, once.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.rlnotes-installed
JB     := $(BIN)/jupyter-book

# The runtime the book is measured on (see rlnotes/__init__.py and rlnotes/progress.py).
export OMP_NUM_THREADS ?= 1
export RLNOTES_PROGRESS ?= text
export SDL_VIDEODRIVER ?= dummy
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1
export MPLCONFIGDIR ?= $(CURDIR)/_build/.matplotlib

.PHONY: book test unit notebooks build-check pages lab clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The pinned book toolchain (sphinx-book-theme 1.3, numpy 2.4) needs Python 3.11 or newer; this is " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 (or newer)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

## make book: execute every chapter and build the HTML book into _build/html/
book: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(JB) build . --all
	@echo
	@echo "The book is in _build/html/. Open _build/html/index.html in a browser,"
	@echo "or serve it: $(BIN)/python -m http.server -d _build/html 8000"

## make test: unit tests + every chapter executed by nbval, then a -W -n build, then the page check
test: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(BIN)/python -m pytest -m "not pages" tests book --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p tests.nbcache
	$(JB) build . --all -W -n --keep-going
	$(BIN)/python -m tests.nbcache --check-build _build/html
	$(BIN)/python -m pytest -m pages tests

## make lab: JupyterLab in book/ with the same environment
lab: $(STAMP)
	RLNOTES_PROGRESS= $(BIN)/jupyter lab --notebook-dir=book $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf _build
