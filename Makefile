# Novatrade Webhooks. `make run` starts everything; `make test` runs every test tier.
# Each target sets up what it needs (npm packages, Kafka, registry, PostgreSQL) and is quick
# when that is already done.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: chaos help install build typecheck infra-up infra-down infra-status schemas run demo prometheus-install browser-install dashboards test test-unit test-integration bench clean migrate bench-projector

help:
	@echo "make run               start infra, register schemas, run router, sender, projector, admin and Prometheus"
	@echo "make demo              against a running make run: a receiver, an endpoint, ten signed events delivered"
	@echo "make test              install, build, start infra, run unit + integration tests, stop what it started"
	@echo "make test-unit         unit tests only (no infra)"
	@echo "make test-integration  integration tests against real Kafka, registry and PostgreSQL"
	@echo "make infra-up | infra-down | infra-status   (infra-up CLUSTER=3: a 3-node Kafka cluster)"
	@echo "make bench             throughput benchmarks (results in bench/results/)"
	@echo "make chaos             faults on a 3-node Kafka cluster under load, checked against the receivers (chaos/results/)"
	@echo "make migrate           bring the projector's PostgreSQL schema to the latest version (re-runnable)"
	@echo "make bench-projector   projector outcomes/s and history query p50/p99 (bench/results/projector.json)"
	@echo "make dashboards        regenerate deploy/grafana/dashboards/*.json from packages/dashboards"

# npm ci only when package-lock.json (or a patch applied at install, patches/) changed since the last install.
node_modules/.install-stamp: package-lock.json package.json packages/*/package.json services/*/package.json $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: node_modules/.install-stamp

build: install
	npx tsc -b

typecheck: build

# CLUSTER=3: three Kafka nodes (replication factor 3, min.insync.replicas=2) instead of one.
infra-up:
	@$(if $(CLUSTER),INFRA_KAFKA_CLUSTER=$(CLUSTER) )scripts/infra.sh up

infra-down:
	@scripts/infra.sh down

infra-status:
	@scripts/infra.sh status

schemas: build infra-up
	@set -a; source <(scripts/infra.sh env); set +a; node packages/event-codec/dist/register-cli.js

run: build infra-up
	@scripts/run.sh

demo: build
	@scripts/demo.sh

# Debian's prometheus package (server + promtool): make test runs promtool and a real server
# against the services; make run installs it too when it can (run.sh).
prometheus-install:
	@scripts/prometheus.sh install

# Debian's chromium for the portal's browser test (playwright-core drives it; nothing downloads
# a browser). Instant when /usr/bin/chromium is there.
browser-install:
	@scripts/browser.sh install

dashboards: build
	node packages/dashboards/dist/generate-cli.js

test: build prometheus-install browser-install
	@scripts/test.sh all

test-unit: build
	@scripts/test.sh unit

test-integration: build prometheus-install browser-install
	@scripts/test.sh integration

bench: build
	@scripts/bench.sh

# The dispatcher under faults on a local 3-node cluster; CHAOS_PROFILE=short for a quick one.
chaos: build
	@scripts/chaos.sh

migrate: build infra-up
	@set -a; source <(scripts/infra.sh env); set +a; node packages/database/dist/migrate-cli.js

bench-projector: build
	@scripts/bench-projector.sh

clean:
	npx tsc -b --clean
