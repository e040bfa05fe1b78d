# Set-up and everyday commands; the virtual environment is built from the lock file.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Prefect keeps its state inside the project; no telemetry leaves the machine.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install run test lint bench clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --requirement requirements.lock
	$(BIN)/pip install --quiet --no-deps --editable .
	touch $@

install: $(BIN)/.installed

# make exits 2 whenever a command fails: the command's own status is printed first.
run: install
	@$(BIN)/voluntary-returns run || { status=$$?; echo "voluntary-returns run: exit status $$status" >&2; exit $$status; }

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/run_bench.py

clean:
	rm -rf $(VENV) .prefect data/warehouse.duckdb* data/marts data/cache data/gx data/report \
		data/publication.json data/.publish-*
