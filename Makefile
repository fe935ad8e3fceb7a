# socfund: `make run` builds the warehouse offline from samples/, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DBT_PROJECT_DIR  := $(CURDIR)/dbt_project
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: run test install manifest lint clean soffice browser

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The dbt manifest the Dagster definitions load; parsed with warnings as errors so a
# misspelt config key fails here instead of being ignored.
manifest: $(STAMP)
	cd dbt_project && ../$(BIN)/dbt --warn-error parse --quiet

# The page's explorer runs DuckDB-WASM, pinned exactly in web/package-lock.json: `npm ci`
# installs that into web/node_modules (git-ignored) from npm's cache in web/.npm-cache, so a
# second install needs no network; the site build copies the files it serves from there.
WEB_STAMP := web/node_modules/.socfund-stamp

.PHONY: web
web: $(WEB_STAMP)

$(WEB_STAMP): web/package.json web/package-lock.json
	command -v npm >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm)
	cd web && npm ci --cache .npm-cache --prefer-offline --ignore-scripts --no-audit --no-fund
	touch $(WEB_STAMP)

run: manifest web
	$(BIN)/socfund build

# A journalist's check opens the exports in LibreOffice: Debian's package, installed here.
soffice:
	command -v soffice >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc)

# The page is tested in headless Chromium (Debian's); fonts so Cyrillic renders.
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core)

# The tests run on TEST_WORKERS processes (pytest-xdist), each test whole on one of them;
# `make test TEST_WORKERS=0` runs them in this one process.
TEST_WORKERS ?= 2

test: manifest soffice browser web
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf dbt_project/target dbt_project/logs warehouse/.build

# The benchmark at the real sources' size (bench/README.md), never part of `make test`:
# generate the corpus (skipped when the same seed and scale is there), time every stage.
BENCH_WAREHOUSE ?= bench/.work/warehouse
BENCH_SCALE ?= 1
BENCH_STAMP := $(VENV)/.bench-installed-stamp

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

.PHONY: bench
bench: manifest $(BENCH_STAMP)
	$(BIN)/python -m bench.generate --warehouse $(BENCH_WAREHOUSE) --scale $(BENCH_SCALE)
	$(BIN)/python -m bench.run --warehouse $(BENCH_WAREHOUSE)

# The Dagster UI, with the daemon that runs the schedule, the sensors and the run queue, on
# http://127.0.0.1:3000. Run history lives in DAGSTER_HOME; its dagster.yaml is made from
# ops/dagster.yaml the first time and is the analyst's own afterwards. The venv goes first
# on PATH: under `dagster dev` dagster-dbt re-parses the manifest with the `dbt` it finds
# there.
DAGSTER_HOME ?= $(CURDIR)/.dagster
DAGSTER_PORT ?= 3000

.PHONY: dagster
dagster: manifest
	mkdir -p "$(DAGSTER_HOME)"
	test -f "$(DAGSTER_HOME)/dagster.yaml" || cp ops/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	PATH="$(CURDIR)/$(BIN):$$PATH" DAGSTER_HOME="$(DAGSTER_HOME)" \
	  $(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p $(DAGSTER_PORT)
