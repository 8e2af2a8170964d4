# bgpinject: `make demo` shows it working, `make test` runs every test.
CARGO ?= cargo

.PHONY: all build release demo test lint unit deps fuzz clean bench

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
	$(CARGO) test --all-targets -- --test-threads=2

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

unit:
	$(CARGO) test --lib

deps:
	scripts/install-test-deps.sh

# Every cargo-fuzz target for FUZZ_SECONDS each (default 60).
fuzz:
	scripts/fuzz.sh

# Benchmarks (release builds): 10k..1M routes to a counting receiver, against ExaBGP and BIRD;
# tables on stdout, CSV/JSON in target/bench/. RUN_CAP (default 120 s) bounds each run.
bench:
	python3 scripts/bench/scale.py

clean:
	$(CARGO) clean
