# bgpinject: `make demo` shows it working, `make test` runs every test.
CARGO ?= cargo
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
DOCDIR = $(PREFIX)/share/doc/bgpinject
UNITDIR = $(PREFIX)/lib/systemd/system
MANDIR = $(PREFIX)/share/man
# The binary `make install` installs; the release build unless BIN names another one.
BIN ?= target/release/bgpinject

.PHONY: all build release demo test test-offline test-peers lint lint-man clippy unit deps bench-deps fuzz soak bench clean static install test-static

all: build

build:
	$(CARGO) build

release:
	$(CARGO) build --release

demo: release
	BIN=target/release/bgpinject scripts/demo.sh

# Every test: formatting, lints, unit tests, test vectors, config corpus, and the
# integration tests against real BGP speakers (installed here when missing).
# Most tests wait on a peer rather than compute, so tests/harness/run_tests.py runs three test
# binaries at a time, each in network namespaces of its own, and, alongside them under `nice`,
# the lints, the static builds with their qemu test, and the test-vector cross-checks. Each
# fails `make test` as it did when they ran one after another.
test: deps
	$(CARGO) fmt --all -- --check
	python3 tests/harness/run_tests.py --lib --bins --tests \
		--side 'nice -n 10 $(MAKE) --no-print-directory lint-man clippy' \
		--side 'nice -n 10 $(MAKE) --no-print-directory static test-static' \
		--side 'python3 test-vectors/tshark_check.py --bgpinject target/debug/bgpinject' \
		--side 'python3 test-vectors/exabgp_check.py --bgpinject target/debug/bgpinject' \
		-- --test-threads=2

# The tiers of TESTING.md. Tier 1 needs a Rust toolchain only (plus man-db for man_pages and
# make for install): unit tests, test vectors, the configuration corpus, the CLI, a fake
# hostile peer, the docs checks.
OFFLINE_TESTS = cli_check config_errors daemon_cli daemon_safety decode_cli encode_cli \
	flowspec_config fuzz_stable helper_hostile api_batches hostile_peer families_hostile malformed_live session_attacks vectors \
	reload_listeners idle_descriptors helper_generations helper_flap family_counts \
	readme_keywords docs_paths man_pages install exabgp_configs exabgp_keywords exabgp_encoding
# Tier 2: every test that starts a real BGP daemon (BIRD, FRR, GoBGP, OpenBGPD, ExaBGP).
PEER_TESTS = bird_e2e harness_selftest examples_bird session_robustness scale reload_bird reload_include_bird \
	reload_invalid reload_programs reload_watch api_programs api_receive api_families_bird \
	flowspec_bird flowspec_guard flowspec_interop families_interop interop_matrix interop_selftest \
	exabgp_examples exabgp_same_routes session_bird watch_half_written decode_captures docs_first_session \
	md5_reload_bird helper_restart_states exabgp_api api_teardown_bird lease_bird bfd_peers metrics gr_restart_bird \
	exabgp_capabilities families_gobgp families_frr_evpn families_attrs_gobgp families_vpls_srpolicy healthcheck_bird watchdog_bird dynamic_neighbors_bird \
	exabgp_session_options state_file_families_gobgp role_bird

test-offline:
	$(CARGO) test --lib --bins $(addprefix --test ,$(OFFLINE_TESTS)) -- --test-threads=2

test-peers: deps
	$(CARGO) test $(addprefix --test ,$(PEER_TESTS)) -- --test-threads=2

# The aarch64 static binary under qemu user emulation against BIRD (qemu-user-static is
# installed by `make deps`). Ignored by a plain `cargo test`, which has no dist/ binaries.
test-static:
	BGPINJECT_STATIC_BIN=$(CURDIR)/dist/bgpinject-linux-aarch64 \
		$(CARGO) test --test static_binary -- --ignored --test-threads=1

# Fully static, stripped binaries for x86_64 and aarch64 Linux in dist/ (musl, linked by rust-lld).
static:
	scripts/build-static.sh

# The binary, the man pages, the README and docs/, the example configurations, the init
# scripts, and the systemd unit with this PREFIX's paths.
install: $(if $(filter target/release/bgpinject,$(BIN)),release)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)/examples/cron $(DESTDIR)$(DOCDIR)/init \
		$(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/bgpinject
	install -m 0644 man/bgpinject.8 $(DESTDIR)$(MANDIR)/man8/bgpinject.8
	install -m 0644 man/bgpinject.conf.5 $(DESTDIR)$(MANDIR)/man5/bgpinject.conf.5
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 conf/*.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 conf/cron/bgpinject.conf conf/cron/routes.inc $(DESTDIR)$(DOCDIR)/examples/cron/
	install -m 0755 conf/cron/update-routes.sh $(DESTDIR)$(DOCDIR)/examples/cron/
	install -m 0755 conf/init/bgpinject.openrc $(DESTDIR)$(DOCDIR)/init/bgpinject.openrc
	install -m 0755 conf/init/runit/run $(DESTDIR)$(DOCDIR)/init/runit-run
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' conf/bgpinject.service \
		> $(DESTDIR)$(UNITDIR)/bgpinject.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bgpinject.service

lint: lint-man clippy
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --all-targets -- -D warnings

# The man pages render without a warning (man-db and groff; tests/man_pages.rs does the same
# and also compares their options and keywords with --help and the parser).
lint-man:
	@for page in man/bgpinject.8 man/bgpinject.conf.5; do \
		out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l $$page 2>&1 >/dev/null); \
		if [ -n "$$out" ]; then echo "$$page:"; echo "$$out"; exit 1; fi; \
	done; echo "man pages: no warnings"

unit:
	$(CARGO) test --lib

deps:
	scripts/install-test-deps.sh

bench-deps:
	scripts/bench/install-bench-deps.sh

# A bounded soak run against BIRD (SOAK_SECONDS, default 600).
soak: deps
	$(CARGO) test --release --test soak -- --ignored --nocapture

# Every cargo-fuzz target for FUZZ_SECONDS each (default 60).
fuzz:
	scripts/fuzz.sh

# Benchmarks (release builds), each printing a table: route injection at 10k..1M routes
# against ExaBGP, GoBGP and BIRD as injectors, into a counting receiver and into BIRD, then
# the rows of EXTRA_ROWS (process API, 100 and 1,000 neighbors, cron reload, 10M routes)
# (CSV/JSON in target/bench/; RUN_CAP, default 120 s, bounds each run; see
# scripts/bench/scale.py for SIZES, BIRD_SIZES, INJECTORS, EXTRA_ROWS, BENCH_PORT), reloads of
# 1M routes, and decoding; tests/scale.rs's 10M-route check (release binaries, not timed).
# Installs ExaBGP, GoBGP and BIRD 2 when missing.
bench: release bench-deps
	python3 scripts/bench/scale.py
	$(CARGO) test --test scale -- --ignored ten_million
	$(CARGO) bench --bench reload
	$(CARGO) bench --bench decode

clean:
	$(CARGO) clean
