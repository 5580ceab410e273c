# orderflow — the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov's own pins conflict with the project's (boto3, networkx, packaging): it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: template demo serve test lint typecheck checkov template-check unit integration build schemas events catalog clean

$(STAMP): requirements-dev.txt layers/shared/requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## demo: start the local cloud, place sample orders over HTTP, print the report
demo: $(STAMP)
	$(BIN)/python -m tools.localcloud demo $(ARGS)

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt -c constraints-checkov.txt
	touch $(CHECKOV_STAMP)

## test: lint, type-check, checkov, and the whole suite (its template tests run cfn-lint, sam validate --lint and sam build)
test: lint typecheck checkov
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	MYPYPATH=layers/shared:functions $(BIN)/mypy layers/shared functions tools tests

## checkov: scan template.yaml; every finding is fixed or skipped in the resource's Metadata with its reason
checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact --skip-download

template-check: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/sam validate --lint --template template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

build: $(STAMP)
	$(BIN)/sam build --parallel --template template.yaml

## template: regenerate template.yaml's fenced parts (the schema registry from the event models, consumers from consumers.yaml, the dashboard)
template: $(STAMP)
	$(BIN)/python -m tools.generate_template

## schemas: regenerate the JSON Schemas in schemas/ from the event models and record them in schemas/baseline/ (refused for a breaking change: raise the version, add an upcaster)
schemas: $(STAMP)
	$(BIN)/python -m tools.generate_schemas

## catalog: regenerate docs/events.md (publishers, listeners, fields, examples) from the models, template.yaml and the ASL
catalog: $(STAMP)
	$(BIN)/python -m tools.generate_event_catalog

## events: regenerate the sample events in events/ from the event models
events: $(STAMP)
	$(BIN)/python -m tools.generate_sample_events

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .aws-sam .localcloud .mypy_cache .pytest_cache .ruff_cache

## serve: run the local cloud on fixed ports (AWS APIs :5000, orders API :3000) until Ctrl-C
serve: $(STAMP)
	$(BIN)/python -m tools.localcloud serve $(ARGS)

## load: bounded load test (ramp, hold, 8x spike) on the local cloud, or on ORDERFLOW_API_URL; ARGS="--help" for flags
.PHONY: load
load: $(STAMP)
	$(BIN)/python -m tools.localcloud load $(ARGS)

## bench: cold start and per-record ratios, local-cloud orders/s and moto's CPU per call type; prints, never fails on time
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(ARGS)

## chaos: 1,000 orders through the local cloud while faults are injected, then invariants; ARGS="--orders 50 --seed 7"
.PHONY: chaos
chaos: $(STAMP)
	$(BIN)/python -m tools.localcloud chaos $(ARGS)

## cost: per-order usage, cost per million orders and capacity ceiling from template.yaml and the ASL; rewrites README's region
.PHONY: cost
cost: $(STAMP)
	$(BIN)/python -m tools.cost --write $(ARGS)
