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

.PHONY: book test lint test-variants unit notebooks build-check pages lab clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "The pinned book toolchain (sphinx-book-theme 1.3, numpy 2.4) needs Python 3.11 or newer; this is " + sys.version.split()[0] + ". Run: make PYTHON=python3.11 (or newer)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

## make book: execute every chapter once and build both editions from that execution: English
## into _build/html/, Chinese (from the catalogs in locales/, tools/i18n.py) into _build/html/zh/
## (RLNOTES_BOOK_FIGURES=1: the execution draws each figure in Chinese too, rlnotes.plotting)
book: $(STAMP)
	rm -rf _build/.jupyter_cache
	RLNOTES_BOOK_FIGURES=1 $(JB) build . --all
	$(BIN)/python tools/i18n.py build
	@echo
	@echo "The book is in _build/html/ (English) and _build/html/zh/ (Chinese, 中文版). Open"
	@echo "_build/html/index.html or _build/html/zh/index.html in a browser, or serve both:"
	@echo "$(BIN)/python -m http.server -d _build/html 8000"

## make lint: the pre-commit hooks on every file (chapters stored without outputs; ruff)
lint: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure

## make test: the hooks, unit tests + every chapter executed by nbval, then the -W -n builds of
## both editions (rendering nbval's execution; the Chinese one fails on any untranslated
## message), then the page check of both
test: lint
	rm -rf _build/.jupyter_cache
	RLNOTES_BOOK_FIGURES=1 $(BIN)/python -m pytest -m "not pages" tests book --nbval-lax --nbval-current-env --nbval-cell-timeout=300 -p tests.nbcache
	$(JB) build . --all -W -n --keep-going
	$(BIN)/python tools/i18n.py build --strict
	$(BIN)/python -m tests.nbcache --check-build _build/html
	$(BIN)/python -m pytest -m pages tests

## make test-variants: every chapter that computes with torch (all but the three that only read
## committed data) executed again under numerical variants that emulate another reader's CPU
## (README, "Numerical variants"). VARIANT=cpu|mkl|threads runs one; VARIANT=combined all
## three at once; the default runs each alone, one after another.
TRAINING_CHAPTERS := book/mdps.ipynb book/policies.ipynb book/score_function.ipynb \
                     book/variance_reduction.ipynb book/importance_sampling.ipynb book/ppo.ipynb \
                     book/actor_critic.ipynb book/dqn.ipynb book/ddpg.ipynb
VARIANT ?= cpu mkl threads
variant_env_cpu      := ATEN_CPU_CAPABILITY=default
variant_env_mkl      := MKL_CBWR=COMPATIBLE
# (OMP_WAIT_POLICY=PASSIVE changes no number: an idle OpenMP thread sleeps instead of spinning,
# without which two threads on a busy 2-core machine wait on each other 20-40 times slower)
variant_env_threads  := RLNOTES_TORCH_THREADS=2 OMP_WAIT_POLICY=PASSIVE
variant_env_combined := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE RLNOTES_TORCH_THREADS=2 OMP_WAIT_POLICY=PASSIVE
test-variants: $(STAMP)
	@for v in $(VARIANT); do \
	  case $$v in cpu|mkl|threads|combined) ;; \
	    *) echo "unknown VARIANT '$$v': choose from cpu mkl threads combined"; exit 2;; esac; \
	done
	@set -e; for v in $(VARIANT); do \
	  case $$v in \
	    cpu) e="$(variant_env_cpu)";; mkl) e="$(variant_env_mkl)";; \
	    threads) e="$(variant_env_threads)";; combined) e="$(variant_env_combined)";; esac; \
	  echo "== numerical variant '$$v': $$e"; \
	  env $$e $(BIN)/python -m pytest $(TRAINING_CHAPTERS) --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=600 -p no:cacheprovider -q; \
	done

## make lab: JupyterLab in book/ with the same environment; make lab LANG=zh: the Chinese
## notebooks (generated from the catalogs into _build/notebooks-zh/), checkers in Chinese
lab: $(STAMP)
ifneq ($(filter zh%,$(LANG)),)
	$(BIN)/python tools/i18n.py notebooks _build/notebooks-zh
	RLNOTES_PROGRESS= RLNOTES_LANG=zh_CN $(BIN)/jupyter lab --notebook-dir=_build/notebooks-zh/book $(if $(filter 0,$(shell id -u)),--allow-root)
else
	RLNOTES_PROGRESS= $(BIN)/jupyter lab --notebook-dir=book $(if $(filter 0,$(shell id -u)),--allow-root)
endif

clean:
	rm -rf _build
