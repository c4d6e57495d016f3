# greenlight: CodeDeploy lifecycle hooks for ECS blue/green, in Rust.
#
#   make demo                 run the three hooks locally on built-in sample data
#   make demo SCENARIO=broken the same, with a green service that answers wrongly
#   make test                 every test: unit, schema, end-to-end on the real binaries
#   make lint                 rustfmt and clippy, warnings as errors
#   make schema               regenerate schema/greenlight-spec.schema.json
#   make local                sample green + CodeDeploy stand-in on fixed ports (for watch/invoke)
#   make watch                cargo lambda watch, with the hooks pointed at `make local`
#   make invoke HOOK=...      cargo lambda invoke HOOK with events/HOOK.json

SHELL := /bin/bash
CARGO ?= cargo
VENV ?= .venv
PYTHON ?= python3
SCENARIO ?= healthy
HOOK ?= after-allow-test-traffic
export SCENARIO

.PHONY: demo test lint fmt schema local watch invoke venv toolchain clean

# Rust components the targets need; rustup adds them if missing.
toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@if command -v rustup >/dev/null; then \
	  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt; \
	  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy; \
	fi

demo: toolchain
	$(CARGO) run --quiet -p greenlight-e2e --bin greenlight-demo

# The end-to-end tests build the hook binaries they run (once per run), and
# run them against moto's AWS emulator from the venv.
test: toolchain $(VENV)/bin/moto_server
	@mkdir -p target
	@$(CARGO) test --workspace --no-fail-fast 2>&1 | tee target/test.log; status=$${PIPESTATUS[0]}; \
	  awk '/^test result:/ {p += $$4; f += $$6} END {printf "all tests: %d passed, %d failed\n", p, f}' target/test.log; \
	  exit $$status

lint: toolchain $(VENV)/bin/cfn-lint
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/python tests/template_policy.py

fmt:
	$(CARGO) fmt --all

schema:
	UPDATE_SCHEMA=1 $(CARGO) test -p greenlight --test schema

# A Python venv with cargo-lambda, for watch/invoke.
$(VENV)/bin/cargo-lambda:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet cargo-lambda

venv: $(VENV)/bin/cargo-lambda

# cfn-lint for template.yaml (and its decoder for the policy check).
$(VENV)/bin/cfn-lint:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "cfn-lint==1.51.0"

# moto's server (an AWS emulator) for the end-to-end tests, in the same venv.
$(VENV)/bin/moto_server:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "moto[server]==5.2.5"

local: toolchain
	$(CARGO) run --quiet -p greenlight-e2e --bin greenlight-demo -- serve

watch: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	GREENLIGHT_SPEC_FILE="$(CURDIR)/examples/local-spec.json" \
	GREENLIGHT_REPORT_MARGIN_MS=1000 \
	AWS_ENDPOINT_URL_CODEDEPLOY=http://127.0.0.1:4599 \
	AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_EC2_METADATA_DISABLED=true \
	cargo lambda watch

invoke: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda invoke $(HOOK) --data-file events/$(HOOK).json

clean:
	$(CARGO) clean
	rm -rf $(VENV)
