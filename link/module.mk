# link/: churn-link, the emulated WAN link (build/bin/churn-link), and `make link-check`, which measures it
# against its configuration in a throwaway two-namespace lab (link/check.sh; QUICK=1 for a short run).
.PHONY: link-check
link-check: deps-build deps-lab $(BIN)/churn-link
	link/check.sh $(if $(QUICK),--quick)
