# churnlab: `make compare` and `make test` are the two commands; see README.md.
#
# Layout: every folder with code builds a static library from its *.cc files (main.cc excluded) and,
# if it has a main.cc, the binary build/bin/churn-<folder>. Each folder's module.mk adds what is
# particular to it (extra libraries, binary name). Tests link every library.

SHELL      := /bin/bash
CXX        ?= g++
CXXFLAGS   ?= -O2 -g
CXXFLAGS   += -std=c++20 -Wall -Wextra -Wshadow -Wno-missing-field-initializers -I. -MMD -MP
LDLIBS     :=
# SANITIZE=1 (what `make test-sanitize` uses): ASan + UBSan objects in a tree of their own, build-san/,
# so that instrumented and plain objects never mix (they would link, and the report would be partial).
BUILD      := $(if $(SANITIZE),build-san,build)
# -O1: what the ASan docs advise, and it compiles faster than -O2 (it comes last, so it wins). -Wno-maybe-
# uninitialized: g++ 12 with ASan warns inside <regex>'s own std::function, a false positive.
SAN_FLAGS  := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
              -Wno-maybe-uninitialized
CXXFLAGS   += $(if $(SANITIZE),$(SAN_FLAGS))
BIN        := $(BUILD)/bin

# Knobs for the lab runs (make compare RATE=3000 DURATION=20 CONNS=32 SIZE=64).
RATE       ?= 3000
DURATION   ?= 40
CONNS      ?= 32
SIZE       ?= 64
WARMUP     ?= 0
RTT        ?= 0
export RATE DURATION CONNS SIZE WARMUP RTT

MODULES    := loop server client probe pcap report link sysctl synflood
MODULES    := $(foreach m,$(MODULES),$(if $(wildcard $(m)/*.cc),$(m)))

lib_srcs    = $(filter-out $(1)/main.cc,$(wildcard $(1)/*.cc))
objs        = $(patsubst %.cc,$(BUILD)/%.o,$(1))
LIBS       := $(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(BUILD)/lib$(m).a))
BINARIES   := $(foreach m,$(MODULES),$(if $(wildcard $(m)/main.cc),$(BIN)/churn-$(m)))

-include $(wildcard */module.mk)

.PHONY: all build deps test unit integration compare compare-rtt run-churn run-pooled run-leak run-incident bench lab-clean clean experiments evidence docs-check help test-noisy
.DEFAULT_GOAL := all

all: build
build: deps-build $(BINARIES) $(BIN)/bench-floor

# make bench's yardstick (lab/bench_floor.cc): a client that only reads and writes. Built with the rest
# so that it never rots unnoticed.
$(BIN)/bench-floor: $(BUILD)/lab/bench_floor.o $(BUILD)/libloop.a
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(LDLIBS)

help:
	@echo "make compare       build, run churn then pooled under the same load, print the before/after table"
	@echo "make run-churn     one scenario: a new connection per request"
	@echo "make run-pooled    one scenario: CONNS keep-alive connections"
	@echo "make sysctl-check  read-only: this host's churn sysctls beside sysctl/*.conf, and the dangerous ones"
	@echo "make run-leak      a CLOSE-WAIT leak (churn-server --leak-close-wait) found by churn-probe triage"
	@echo "make run-incident  a stock client's churn incident (Python http.client, urllib, curl), triaged twice, fixed, checked"
	@echo "make compare-rtt   churn vs pooled over an emulated 2 ms path: latency p50 / RTT"
	@echo "make run-levers    the same churn load, one kernel lever per row (EXPERIMENTS.md §6), about 9 min"
	@echo "make run-synflood  a SYN flood with tcp_syncookies 1, 0, 2; accept-queue overflow; what a cookie costs at 200 ms RTT (EXPERIMENTS.md §7), about 2 min"
	@echo "make run-nagle     split writes with Nagle on vs TCP_NODELAY, QUICKACK, CORK, writev; an RTT sweep (EXPERIMENTS.md §8), about 4 min"
	@echo "make run-cc        CUBIC vs BBR over 100 Mbit/s, 50 ms RTT, 1 % loss (churn-link): table and plots"
	@echo "make link-check    the emulated link measured against its configuration"
	@echo "make fuzz          libFuzzer on every parser of outside input, FUZZ_SECONDS=60 each (fuzz-NAME: one)"
	@echo "make test          unit tests, then integration tests in lab namespaces (root)"
	@echo "make test-noisy    make test while a busy loop spins on one CPU (timing bounds must hold)"
	@echo "make test-sanitize the unit tests built with ASan + UBSan in build-san/; any report fails (CI runs it)"
	@echo "make bench         churnlab against wrk, ab and nginx, ratios printed"
	@echo "make evidence      copy results/latest into evidence/ and regenerate the docs' generated blocks"
	@echo "make experiments   regenerate EXPERIMENTS.md and README.md blocks from committed evidence/"
	@echo "make lab-clean     remove namespaces and processes a killed run left behind"
	@echo "make install       the churn-* tools into DESTDIR/PREFIX/bin (PREFIX=$(PREFIX))"
	@echo "knobs: RATE=$(RATE) DURATION=$(DURATION) CONNS=$(CONNS) SIZE=$(SIZE) WARMUP=$(WARMUP)"
	@echo "       PROFILE=sysctl/X.conf: compare/run-* apply that profile in both lab namespaces (never the host)"

# ---- packages (Debian 12, apt-get; only what is missing) ----
.PHONY: deps-build deps-lab deps-bench deps-pcap deps-fuzz deps-incident
deps-build: ; @lab/deps.sh build
deps-lab:   ; @lab/deps.sh lab
deps-bench: ; @lab/deps.sh bench
deps-pcap:  ; @lab/deps.sh pcap
deps-fuzz:  ; @lab/deps.sh fuzz
deps-incident: ; @lab/deps.sh incident

# ---- compile ----
# deps-build is order-only: under `make -j` it must finish (apt-get on a fresh machine) before the first
# compile starts, yet it never makes an object out of date.
$(BUILD)/%.o: %.cc | deps-build
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

define module_rules
$(BUILD)/lib$(1).a: $(call objs,$(call lib_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
$(BIN)/churn-$(1): $(BUILD)/$(1)/main.o $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CXX) $$(CXXFLAGS) -o $$@ $(BUILD)/$(1)/main.o -Wl,--start-group $(LIBS) -Wl,--end-group $$(LDLIBS)
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

# ---- tests ----
UNIT_SRCS  := $(wildcard tests/unit/*.cc)
UNIT_BIN   := $(BIN)/unit-tests
$(UNIT_BIN): $(call objs,$(UNIT_SRCS)) $(LIBS)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -o $@ $(call objs,$(UNIT_SRCS)) -Wl,--start-group $(LIBS) -Wl,--end-group $(LDLIBS)

unit: deps-build $(UNIT_BIN)
	$(UNIT_BIN)

integration: build deps-lab
	tests/integration/run.sh

test: build $(UNIT_BIN) deps-lab deps-pcap deps-incident
	+@tests/run.sh

test-noisy: build $(UNIT_BIN) deps-lab deps-pcap deps-incident
	+@tests/noisy.sh

# The unit tests under AddressSanitizer and UndefinedBehaviorSanitizer (g++), built by a make of their own
# with SANITIZE=1 into build-san/. halt_on_error: the first report ends the run with a failure, so a
# finding cannot scroll past unnoticed; detect_leaks: a leak is a finding too.
.PHONY: test-sanitize
test-sanitize: deps-build
	+@$(MAKE) --no-print-directory SANITIZE=1 build-san/bin/unit-tests
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  build-san/bin/unit-tests

# ---- the lab ----
compare: build deps-lab deps-pcap
	lab/compare.sh

# The handshake's cost in latency: both scenarios over an emulated path (lab/link.sh), at a load below
# the port-search knee so that what the latency shows is round trips, not queueing.
compare-rtt: build deps-lab deps-pcap
	RTT=$(or $(filter-out 0,$(RTT)),2ms) RATE=$(if $(filter command line,$(origin RATE)),$(RATE),500) \
	  DURATION=$(if $(filter command line,$(origin DURATION)),$(DURATION),10) lab/compare.sh

run-churn: build deps-lab deps-pcap
	lab/scenario.sh churn

run-pooled: build deps-lab deps-pcap
	lab/scenario.sh pooled

run-leak: build deps-lab
	lab/leak.sh

# Read-only, on the host it runs on: the churn sysctls beside both profiles, and warnings (churn-sysctl
# check; --strict would make a warning fail). It writes nothing: t_sysctl_check compares every net.*
# sysctl before and after.
.PHONY: sysctl-check
sysctl-check: build
	$(BIN)/churn-sysctl check --profile sysctl/legacy-churn-client.conf --profile sysctl/pooled-service.conf

# RUNBOOK.md §7: Python's http.client and urllib, then the fix (a kept connection, curl), against
# churn-server and nginx; the triage twice while the incident is live; the checklist. About 2.5 min.
# Knobs: INCIDENT_N INCIDENT_D PORT_RANGE INCIDENT_RUNS -> results/incident-<ts>/ (results/latest-incident).
run-incident: build deps-lab deps-incident
	lab/incident.sh

# The same churn load (LEVERS_RATE=3000/s for LEVERS_DURATION=40 s, as make compare), one kernel lever per row in a fresh
# lab each: baseline, wider port range, tcp_tw_reuse below and above its line, tcp_fin_timeout,
# tcp_max_tw_buckets, SO_LINGER {1,0}, server closes, two source addresses, the pool, the pool plus its
# profile (lab/levers.sh) -> results/levers-<ts>/ (results/latest-levers). About 9 min.
.PHONY: run-levers
run-levers: build deps-lab deps-pcap
	lab/levers.sh

# CUBIC vs BBR at 1 % random loss over churn-link, plus a 0 % baseline (lab/cc.sh; knobs CC_RATE CC_RTT
# CC_LOSS CC_QUEUE CC_SECONDS CC_SEED CC_ALGOS) -> results/cc-<ts>/ (results/latest-cc). About 2.5 min.
# A SYN flood (churn-synflood, SYNFLOOD_RATE=2000/s for SYNFLOOD_SECONDS=20 s) at a listener with backlog 128,
# tcp_syncookies = 1, 0, 2 on the server host, a legitimate churn-client beside it; an accept queue that
# stops draining (churn-server --accept-for); then over churn-link at RTT 200 ms: cookies vs none, client
# timestamps off vs on (tcp_info, throughput, MSS), and a dropped SYN-ACK (lab/synflood.sh) ->
# results/synflood-<ts>/ (results/latest-synflood). About 2 min.
.PHONY: run-synflood
run-synflood: build deps-lab deps-pcap
	lab/synflood.sh

# The Nagle + delayed-ACK stall (lab/nagle.sh): one seeded trace (NAGLE_COUNT=80 requests at NAGLE_RATE=10/s)
# replayed over one keep-alive connection per case, each in a fresh lab: split writes with Nagle on, then
# TCP_NODELAY, TCP_QUICKACK on the receiver, TCP_CORK, one writev(); requests split by the client, then
# responses by the server; an RTT sweep over churn-link (NAGLE_RTTS="0 10 50 100"); two annotated
# excerpts -> results/nagle-<ts>/ (results/latest-nagle). About 4 min.
.PHONY: run-nagle
run-nagle: build deps-lab deps-pcap
	lab/nagle.sh

.PHONY: run-cc
run-cc: build deps-lab
	lab/cc.sh

bench: build deps-lab deps-bench deps-pcap
	lab/bench.sh
	lab/bench-probe.sh
	lab/bench-pcap.sh

# The generated blocks of the docs come from evidence/ (small, committed): `make evidence` copies the
# latest compare run there, `make experiments` rewrites the blocks, `make docs-check` proves they match.
DOCS := EXPERIMENTS.md README.md RUNBOOK.md
# tw.csv and probe.json come from churn-probe watch (churn-report probe derives them from the big
# *.probe.jsonl, which stays in results/); tw.svg is the TIME-WAIT plot EXPERIMENTS.md links to.
evidence: build
	lab/evidence.sh
	$(MAKE) --no-print-directory experiments

experiments: build
	@for f in $(DOCS); do $(BIN)/churn-report experiments --evidence evidence --out $$f || exit $$?; done

docs-check: build
	@for f in $(DOCS); do $(BIN)/churn-report experiments --evidence evidence --out $$f --check || exit $$?; done

lab-clean:
	lab/clean.sh

# ---- make fuzz: every parser of outside input on arbitrary bytes, under libFuzzer + ASan + UBSan ----
# Needs clang and its fuzzer runtime (Debian 12: clang-14 libclang-rt-14-dev, `make deps-fuzz`). One target
# per parser: its module's fuzz/fuzz_NAME.cc plus the sources it parses with, compiled apart from the normal
# objects (instrumented: ASan + UBSan + libFuzzer's coverage) into build/fuzz/fuzz-NAME. Seeds are committed:
# tests/fuzz/NAME/ (the pcap decoder's: tests/pcap/ and tests/pcap/fuzz/); keep there every input that
# once found a bug. New inputs go to build/fuzz/corpus-NAME. FUZZ_SECONDS bounds each run; a crash, a leak
# or a slow input leaves build/fuzz/NAME-{crash,leak,timeout,slow-unit}-* and fails the target.
FUZZ_CXX      ?= clang++-14
FUZZ_SECONDS  ?= 60
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_FLAGS    := -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS  := decode http_request http_response proc_tcp sock_diag profile trace

fuzz_decode_SRCS        := $(filter-out pcap/main.cc pcap/capture.cc,$(wildcard pcap/*.cc)) loop/sys.cc pcap/fuzz/fuzz_decode.cc
fuzz_decode_SEEDS       := tests/pcap tests/pcap/fuzz
fuzz_decode_MAXLEN      := 65536
fuzz_http_request_SRCS  := server/http_request.cc server/fuzz/fuzz_http_request.cc
fuzz_http_request_MAXLEN := 16384
fuzz_http_response_SRCS := client/http_response.cc client/fuzz/fuzz_http_response.cc
fuzz_http_response_MAXLEN := 16384
fuzz_proc_tcp_SRCS      := probe/proc_tcp.cc probe/socket_record.cc loop/sys.cc probe/fuzz/fuzz_proc_tcp.cc
fuzz_proc_tcp_MAXLEN    := 16384
fuzz_sock_diag_SRCS     := probe/sock_diag.cc probe/tcp_info.cc probe/socket_record.cc loop/sys.cc probe/fuzz/fuzz_sock_diag.cc
fuzz_sock_diag_MAXLEN   := 65536
fuzz_profile_SRCS       := sysctl/profile.cc sysctl/known.cc sysctl/proc_sys.cc loop/sys.cc sysctl/fuzz/fuzz_profile.cc
fuzz_profile_MAXLEN     := 16384
fuzz_trace_SRCS         := client/trace.cc loop/sys.cc client/fuzz/fuzz_trace.cc
fuzz_trace_MAXLEN       := 4096

define fuzz_rules
fuzz_$(1)_SEEDS ?= tests/fuzz/$(1)
$(FUZZ_DIR)/fuzz-$(1): $$(fuzz_$(1)_SRCS) $$(foreach d,$$(sort $$(dir $$(fuzz_$(1)_SRCS))),$$(wildcard $$(d)*.h)) | deps-fuzz
	@command -v $(FUZZ_CXX) >/dev/null || { echo "make fuzz: $(FUZZ_CXX) missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CXX) $(FUZZ_FLAGS) $$(fuzz_$(1)_SRCS) -o $$@
.PHONY: fuzz-$(1)
fuzz-$(1): $(FUZZ_DIR)/fuzz-$(1)
	@mkdir -p $(FUZZ_DIR)/corpus-$(1)
	cd $(FUZZ_DIR) && ./fuzz-$(1) -max_total_time=$(FUZZ_SECONDS) -max_len=$$(fuzz_$(1)_MAXLEN) -timeout=10 \
	  -rss_limit_mb=2048 -artifact_prefix=$(1)- -print_final_stats=1 corpus-$(1) $$(addprefix $(CURDIR)/,$$(fuzz_$(1)_SEEDS))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

# One after another, so that each gets the CPU it is given FUZZ_SECONDS for, even under make -j.
.PHONY: fuzz fuzz-build
fuzz-build: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DIR)/fuzz-$(t))
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-$$t || exit $$?; done

# The tools on PATH, so that RUNBOOK.md's commands run as written on a real host, outside the lab, and
# the sysctl profiles in PREFIX/share/churnlab/sysctl, where an installed churn-sysctl check finds them.
# PREFIX and DESTDIR as packagers expect (make install DESTDIR=/tmp/stage PREFIX=/usr).
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BINARIES) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/churnlab/sysctl
	install -m 0644 $(wildcard sysctl/*.conf) $(DESTDIR)$(PREFIX)/share/churnlab/sysctl/

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
