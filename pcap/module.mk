# pcap/: churn-pcap (capture with libpcap; decode and annotate with a hand-written reader).
LDLIBS += -lpcap

# ---- make fuzz: the decoder on arbitrary bytes, under libFuzzer + ASan + UBSan ----
# Needs clang and its fuzzer runtime (Debian 12 packages: clang-14 libclang-rt-14-dev). Built apart from
# the normal objects (instrumented: ASan + UBSan + libFuzzer's coverage), seeded with tests/pcap/ (real and
# synthetic captures) and tests/pcap/fuzz/ (inputs that once failed: keep each one that finds a bug).
# New inputs go to build/fuzz/corpus. FUZZ_SECONDS bounds the run; a crash, a leak or a slow input leaves
# its input in build/fuzz/{crash,leak,timeout,slow-unit}-* and fails the target.
FUZZ_CXX      ?= clang++-14
FUZZ_SECONDS  ?= 60
FUZZ_DIR      := $(BUILD)/fuzz
FUZZ_BIN      := $(FUZZ_DIR)/fuzz-decode
FUZZ_SRCS     := $(filter-out pcap/main.cc pcap/capture.cc,$(wildcard pcap/*.cc)) loop/sys.cc pcap/fuzz/fuzz_decode.cc
FUZZ_FLAGS    := -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BIN)
$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard pcap/*.h) | deps-fuzz
	@command -v $(FUZZ_CXX) >/dev/null || { echo "make fuzz: $(FUZZ_CXX) missing (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CXX) $(FUZZ_FLAGS) $(FUZZ_SRCS) -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	cd $(FUZZ_DIR) && ./fuzz-decode -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	  -print_final_stats=1 corpus $(CURDIR)/tests/pcap $(CURDIR)/tests/pcap/fuzz
