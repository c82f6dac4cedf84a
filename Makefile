# gen-tf developer tasks. Every target sets up what it needs in .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export TF_CLI_CONFIG_FILE := $(CURDIR)/tests/terraformrc.hcl

.PHONY: setup demo test test-fast examples check-examples bench scan e2e validate properties clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## The main job: set up, generate the AWS prod module for both products, show it.
demo: $(STAMP)
	mkdir -p .demo
	$(BIN)/gen-tf --cloud aws --env prod --products both --domain wandb.example.com --dns-zone example.com > .demo/main.tf
	cat .demo/main.tf
	@echo "wrote .demo/main.tf ($$(wc -l < .demo/main.tf) lines); next: cd .demo && terraform init -backend=false && terraform validate"

## Every test, including terraform fmt/validate, the checkov scan and the emulator apply.
test: $(STAMP)
	$(BIN)/python -m pytest -q

## Unit and render tests only (no terraform, checkov or emulator).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not terraform and not e2e and not scan and not slow"

examples: $(STAMP)
	$(BIN)/python -m generator.examples

check-examples: $(STAMP)
	$(BIN)/python -m generator.examples --check

bench: $(STAMP)
	$(BIN)/python bench/bench.py

## terraform fmt + validate on every AWS combination (uses the local provider mirror).
validate: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_terraform.py

## checkov on every generated module, from its own virtualenv (.venv-checkov).
scan: $(STAMP)
	$(BIN)/python tools/scan.py

## Apply and destroy the AWS modules against a local AWS emulator (moto).
e2e: $(STAMP)
	$(BIN)/python -m pytest -q -m e2e

## Property-based tests (hypothesis) over the option space.
properties: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_properties.py

clean:
	rm -rf $(VENV) .venv-checkov .demo build dist *.egg-info .pytest_cache .hypothesis
