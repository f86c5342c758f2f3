# link/: churn-link, the emulated WAN link (build/bin/churn-link), and `make link-check`, which measures it
# against its configuration in a throwaway two-namespace lab (link/check.sh; QUICK=1 for a short run;
# link/check.sh --properties is what `make test` asserts). `make link-timing`: what each of the link's
# timing measures buys on this host, a markdown table (link/timing.sh; REPS=3).
.PHONY: link-check link-timing
# Both keep what they print in results/<name>-<UTC timestamp>/, where `make evidence` finds the newest.
link_ts = $(shell date -u +%Y%m%dT%H%M%SZ)
link-check: deps-build deps-lab $(BIN)/churn-link
	LINK_CHECK_HOW="$(if $(QUICK),QUICK=1)" link/check.sh $(if $(QUICK),--quick) --out results/link-check-$(link_ts)
link-timing: deps-build deps-lab $(BIN)/churn-link
	link/timing.sh $(or $(REPS),3) results/link-timing-$(link_ts)
