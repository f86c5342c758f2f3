# pcap/: churn-pcap (capture with libpcap; decode and annotate with a hand-written reader).
LDLIBS += -lpcap
# `make fuzz` (the Makefile) runs libFuzzer on the decoder: pcap/fuzz/fuzz_decode.cc, seeds tests/pcap/.
