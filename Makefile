# Spendwatch — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-sqlite test-postgres test-frontend test-e2e screenshots frontend lint fmt bench clean

# The web app (frontend/): React + TypeScript, built with Vite into frontend/dist, which Flask serves at /.
NPM ?= npm
FRONTEND := frontend
FRONTEND_DEPS := $(FRONTEND)/node_modules/.installed-stamp
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public $(FRONTEND)/scripts -type f 2>/dev/null) \
	$(FRONTEND)/index.html $(FRONTEND)/package.json $(wildcard $(FRONTEND)/vite.config.* $(FRONTEND)/tsconfig*.json)
# Vite 8 needs Node.js ^20.19 or >=22.12; "ok" when npm is there and node is new enough.
NODE_STATE := $(shell command -v $(NPM) >/dev/null 2>&1 || { echo no-npm; exit; }; \
	node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit((a===20&&b>=19)||(a===22&&b>=12)||a>=23?0:1)' \
	>/dev/null 2>&1 && echo ok || echo old-node)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Spendwatch needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(FRONTEND_DEPS): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund
	@touch $@

$(FRONTEND)/dist/index.html: $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && $(NPM) run build

ifeq ($(NODE_STATE),ok)
frontend: $(FRONTEND)/dist/index.html  ## Build the web app when its sources changed
else
frontend:
	@echo "make: skipping the web app build: it needs Node.js ^20.19 or >=22.12 and npm ($(NODE_STATE))."
	@echo "make: Spendwatch serves its starter page instead; install Node.js and npm, then run make again."
endif

run: install frontend  ## Start Spendwatch (API + scheduler) on the embedded SQLite database under ./var
	$(BIN)/spendwatch run

test: lint test-sqlite test-postgres test-frontend test-e2e  ## Lint, every test on SQLite and PostgreSQL, the web app's tests, the browser tests

test-sqlite: install
	$(BIN)/python -m pytest --db=sqlite

test-postgres: install
	$(BIN)/python -m pytest --db=postgres

ifeq ($(NODE_STATE),ok)
test-frontend: $(FRONTEND_DEPS)  ## Type-check the web app and run its unit tests
	cd $(FRONTEND) && $(NPM) run typecheck
	cd $(FRONTEND) && $(NPM) test
else
test-frontend:
	@echo "make: the web app's tests need Node.js ^20.19 or >=22.12 and npm ($(NODE_STATE))." >&2
	@exit 1
endif

# End-to-end browser tests (tests/e2e, docs/testing.md): a real `spendwatch run` on the built web app, driven by
# Playwright in the machine's Chromium (`chromium` on PATH, or CHROMIUM=/path). Playwright never downloads a browser.
# Run once, not per database: the embedded SQLite is what `spendwatch run` uses. A missing Chromium or frontend/dist
# fails the run with a message saying what to install.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

test-e2e: install frontend  ## The browser tests (sign-up, demo data, accounts, alerts, imports, roles, screenshots)
	$(BIN)/python -m pytest --e2e tests/e2e

screenshots: install frontend  ## Refresh docs/screenshots/*.png (every main page at 1280x800, with demo data)
	SPENDWATCH_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest --e2e tests/e2e/test_screenshots.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install  ## Benchmarks; each prints JSON (results recorded in docs/performance.md)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
