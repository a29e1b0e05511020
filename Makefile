# Gatehouse: one command runs the platform, one runs the tests.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export UV_LINK_MODE ?= copy

.PHONY: install install-e2e run test test-unit test-e2e lint format openapi events-doc bench clean

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen

install-e2e:  ## Logto's own management client (@logto/api, npm) for the end-to-end tests
	@if command -v npm >/dev/null 2>&1 && [ ! tests-e2e/node/node_modules/.package-lock.json -nt tests-e2e/node/package-lock.json ]; then cd tests-e2e/node && npm ci --no-audit --no-fund; fi

run: install  ## the whole platform on http://127.0.0.1:3001 (embedded PostgreSQL and NATS unless DATABASE_URL / NATS_URL are set)
	$(UV) run gatehouse-dev run

test: install install-e2e  ## unit and service tests, then the end-to-end tests through the gateway
	$(UV) run pytest libs services -q
	$(UV) run pytest tests-e2e -q

test-unit: install
	$(UV) run pytest libs services -q

test-e2e: install install-e2e
	$(UV) run pytest tests-e2e -q

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy libs/*/src services/*/src

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

openapi: install  ## build/openapi.json from the services' own schemas, no servers needed
	$(UV) run gatehouse-dev openapi --out build/openapi.json

events-doc: install  ## docs/events.md from the event Structs
	$(UV) run gatehouse-dev events-doc --out docs/events.md

bench: install  ## benchmarks in bench/, results appended to bench/RESULTS.md
	$(UV) run python bench/run.py

clean:
	rm -rf build .gatehouse .venv
