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
BUILD      := build
BIN        := $(BUILD)/bin

# Knobs for the lab runs (make compare RATE=3000 DURATION=20 CONNS=32 SIZE=64).
RATE       ?= 3000
DURATION   ?= 40
CONNS      ?= 32
SIZE       ?= 64
WARMUP     ?= 0
RTT        ?= 0
export RATE DURATION CONNS SIZE WARMUP RTT

MODULES    := loop server client probe pcap report link
MODULES    := $(foreach m,$(MODULES),$(if $(wildcard $(m)/*.cc),$(m)))

lib_srcs    = $(filter-out $(1)/main.cc,$(wildcard $(1)/*.cc))
objs        = $(patsubst %.cc,$(BUILD)/%.o,$(1))
LIBS       := $(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(BUILD)/lib$(m).a))
BINARIES   := $(foreach m,$(MODULES),$(if $(wildcard $(m)/main.cc),$(BIN)/churn-$(m)))

-include $(wildcard */module.mk)

.PHONY: all build deps test unit integration compare compare-rtt run-churn run-pooled run-leak bench lab-clean clean experiments evidence docs-check help test-noisy
.DEFAULT_GOAL := all

all: build
build: deps-build $(BINARIES)

help:
	@echo "make compare       build, run churn then pooled under the same load, print the before/after table"
	@echo "make run-churn     one scenario: a new connection per request"
	@echo "make run-pooled    one scenario: CONNS keep-alive connections"
	@echo "make run-leak      a CLOSE-WAIT leak (churn-server --leak-close-wait) found by churn-probe triage"
	@echo "make compare-rtt   churn vs pooled over an emulated 2 ms path: latency p50 / RTT"
	@echo "make run-cc        CUBIC vs BBR over 100 Mbit/s, 50 ms RTT, 1 % loss (churn-link): table and plots"
	@echo "make link-check    the emulated link measured against its configuration"
	@echo "make fuzz          libFuzzer on churn-pcap's decoder (FUZZ_SECONDS=60)"
	@echo "make test          unit tests, then integration tests in lab namespaces (root)"
	@echo "make test-noisy    make test while a busy loop spins on one CPU (timing bounds must hold)"
	@echo "make bench         churnlab against wrk, ab and nginx, ratios printed"
	@echo "make evidence      copy results/latest into evidence/ and regenerate the docs' generated blocks"
	@echo "make experiments   regenerate EXPERIMENTS.md and README.md blocks from committed evidence/"
	@echo "make lab-clean     remove namespaces and processes a killed run left behind"
	@echo "knobs: RATE=$(RATE) DURATION=$(DURATION) CONNS=$(CONNS) SIZE=$(SIZE) WARMUP=$(WARMUP)"

# ---- packages (Debian 12, apt-get; only what is missing) ----
.PHONY: deps-build deps-lab deps-bench deps-pcap deps-fuzz
deps-build: ; @lab/deps.sh build
deps-lab:   ; @lab/deps.sh lab
deps-bench: ; @lab/deps.sh bench
deps-pcap:  ; @lab/deps.sh pcap
deps-fuzz:  ; @lab/deps.sh fuzz

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

test: build $(UNIT_BIN) deps-lab deps-pcap
	+@tests/run.sh

test-noisy: build $(UNIT_BIN) deps-lab deps-pcap
	+@tests/noisy.sh

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

# CUBIC vs BBR at 1 % random loss over churn-link, plus a 0 % baseline (lab/cc.sh; knobs CC_RATE CC_RTT
# CC_LOSS CC_QUEUE CC_SECONDS CC_SEED CC_ALGOS) -> results/cc-<ts>/ (results/latest-cc). About 2.5 min.
.PHONY: run-cc
run-cc: build deps-lab
	lab/cc.sh

bench: build deps-lab deps-bench deps-pcap
	lab/bench.sh
	lab/bench-probe.sh
	lab/bench-pcap.sh

# The generated blocks of the docs come from evidence/ (small, committed): `make evidence` copies the
# latest compare run there, `make experiments` rewrites the blocks, `make docs-check` proves they match.
DOCS := EXPERIMENTS.md README.md
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

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
