# The two commands: `make run` serves the gateway on embedded defaults, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080
FUZZ_PORT ?= 8130

.PHONY: run test lint conformance bench fuzz clean-data help

help:
	@echo "make run          serve the gateway on $(HOST):$(PORT) (embedded PostgreSQL + DynamoDB unless configured)"
	@echo "make test         run the whole test suite"
	@echo "make conformance  run the conformance suite against a freshly started gateway"
	@echo "make bench        run the benchmarks (ratios against raw SQL / COPY)"
	@echo "make fuzz         schemathesis over the OpenAPI and Ed-Fi swagger documents (a fresh gateway on FUZZ_PORT)"
	@echo "make lint         ruff + mypy"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the packaging metadata changes, so re-running is fast.
$(STAMP): pyproject.toml | $(BIN)/python
	@if command -v uv >/dev/null 2>&1; then \
		uv pip install --python $(BIN)/python -e '.[dev,embedded]'; \
	else \
		$(BIN)/python -m pip install -q --upgrade pip && \
		$(BIN)/python -m pip install -q -e '.[dev,embedded]'; \
	fi
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check gateway conformance tests bench
	$(BIN)/mypy

conformance: $(STAMP)
	bash .ci/conformance

bench: $(STAMP)
	@for b in bench/[a-z]*.py; do case $$b in *_common.py) continue;; esac; echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The fuzzer is an optional extra (not in the dev set): installed on first use.
fuzz: $(STAMP)
	@$(BIN)/python -c "import schemathesis" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[fuzz]'
	$(BIN)/python tools/fuzz.py --port $(FUZZ_PORT)

clean-data:
	rm -rf .gateway-data
