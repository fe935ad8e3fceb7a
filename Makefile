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

run: manifest
	$(BIN)/socfund build

# A journalist's check opens the exports in LibreOffice: Debian's package, installed here.
soffice:
	command -v soffice >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc)

# The page is tested in headless Chromium (Debian's); fonts so Cyrillic renders.
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core)

test: manifest soffice browser
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf dbt_project/target dbt_project/logs warehouse/.build
