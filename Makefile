# Conveyor: `make run` serves the example workflows; `make test` runs every check CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/conveyor serve --app examples.demo

test: install lint
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples
	$(BIN)/mypy src

format: install
	$(BIN)/ruff format src tests examples
	$(BIN)/ruff check --fix src tests examples

bench: install
	@echo "make bench: the benchmark is not built yet (issue 'PostgreSQL store ... and the benchmark'); see bench/README.md"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache conveyor.db conveyor.db-wal conveyor.db-shm
