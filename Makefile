# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

BABEL := $(BIN)/pybabel
TRANSLATIONS := bookingapp/translations
AXE_CORE_VERSION := 4.10.3

.PHONY: run test test-unit setup runtime bench clean chromium messages compile-messages axe-core

# What running needs, and on top of it what the tests need (make test only).
$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

runtime: $(BIN)/.runtime
setup: $(BIN)/.installed

# Languages: extract the customer pages' messages and merge them into each catalog
# (then translate what is new: the suite fails while a German message is missing) ...
messages: runtime
	$(BABEL) extract -F babel.cfg -k _l -k N_ --no-location --sort-output --project=bookingapp -o $(TRANSLATIONS)/messages.pot .
	$(BABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap --no-fuzzy-matching

# ... and compile them to the .mo files the app reads (not committed: built here).
compile-messages: runtime
	$(BABEL) compile -d $(TRANSLATIONS) --statistics

# axe-core for the browser tests' accessibility checks, from npm into tests/browser/node_modules.
axe-core:
	@test -f tests/browser/node_modules/axe-core/axe.min.js || \
	  npm install --silent --no-save --no-audit --no-fund --prefix tests/browser axe-core@$(AXE_CORE_VERSION)

# The embedded default: SQLite in instance/, no Redis; demo games with their window.
run: runtime compile-messages
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) slots generate
	$(FLASK) run --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }; \
	  else sudo apt-get update && sudo apt-get install -y chromium; fi; }

# The whole suite against this machine's PostgreSQL and Redis (and SQLite).
test: setup chromium compile-messages axe-core
	$(BIN)/python -m pytest

# The pure core alone: no PostgreSQL, Redis or app needed (its own conftest only).
test-unit: setup
	$(BIN)/python -m pytest tests/unit --confcutdir=tests/unit

bench: setup
	$(BIN)/python bench/generation.py $(BENCH_ARGS)
	$(BIN)/python bench/staff_edits.py
	$(BIN)/python bench/booking_load.py
	$(BIN)/python bench/hook_overhead.py
	$(BIN)/python bench/outbox_delivery.py
	$(BIN)/python bench/customer_pages.py
	$(BIN)/python bench/staff_day.py
	$(BIN)/python bench/scale.py --sizes 1000:14,10000:14

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
