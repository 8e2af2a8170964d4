# bgpinject: `make demo` shows it working, `make test` runs every test.
CARGO ?= cargo

.PHONY: all build release demo test lint unit deps fuzz soak bench clean

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

demo: release
	BIN=target/release/bgpinject scripts/demo.sh

# Every test: formatting, lints, unit tests, test vectors, config corpus, and the
# integration tests against real BGP speakers (installed here when missing).
test: deps lint
	$(CARGO) test --lib --bins --tests -- --test-threads=2

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --lib

deps:
	scripts/install-test-deps.sh

# A bounded soak run against BIRD (SOAK_SECONDS, default 600).
soak: deps
	$(CARGO) test --release --test soak -- --ignored --nocapture

# Every cargo-fuzz target for FUZZ_SECONDS each (default 60).
fuzz:
	scripts/fuzz.sh

# Benchmarks (release builds), each printing a table: route injection at 10k..1M routes
# against ExaBGP and BIRD (CSV/JSON in target/bench/; RUN_CAP, default 120 s, bounds each run),
# reloads of 1M routes, and decoding.
bench: release
	python3 scripts/bench/scale.py
	$(CARGO) bench --bench reload
	$(CARGO) bench --bench decode

clean:
	$(CARGO) clean
