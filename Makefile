# Kith: `make run` (demo on SQLite) and `make test` (every test). Works on a fresh machine with Python 3.11+ and Node 20+.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kith-installed
HOST ?= 127.0.0.1
PORT ?= 8000
export KITH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/kith.db

.PHONY: run test venv frontend frontend-test browser bench clean help

help:
	@echo "make run    - set up, migrate, load demo data, build the web UI and serve on http://$(HOST):$(PORT) (with a job worker)"
	@echo "make test   - set up and run every test (SQLite and PostgreSQL legs, front end)"
	@echo "make bench  - load 100,000 customers and measure the API on SQLite and PostgreSQL"

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[test,bench]'
	@touch $@

frontend: venv
	@if [ -f frontend/package.json ]; then \
		echo "building the web UI"; \
		cd frontend && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } \
		&& cd .. && $(BIN)/kith openapi > frontend/openapi.json && cd frontend && npm run --silent build; \
	fi

frontend-test: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm run --silent test; fi

run: venv frontend
	@mkdir -p var
	@$(BIN)/kith migrate
	@KITH_DEMO_MODE=true $(BIN)/kith demo
	@echo ""
	@echo "  Kith is starting on http://$(HOST):$(PORT)   (API docs: http://$(HOST):$(PORT)/docs)"
	@echo "  Demo logins, password kith-demo-2026:"
	@echo "    admin, manager_north, rep_north, manager_east, rep_east, service, marketing, finance, support"
	@echo ""
	@export KITH_DEMO_MODE=true; $(BIN)/kith worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/kith serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (never a downloaded browser) and need CJK fonts.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto.*CJK"; then \
		echo "installing chromium and fonts-noto-cjk (apt)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: venv frontend browser
	@$(BIN)/python tests/run_all.py

bench: venv
	@$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var src/kith/web/dist frontend/node_modules
