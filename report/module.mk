# report/: churn-report (tables, EXPERIMENTS.md blocks, bench ratios). Header-only CLI11 and
# nlohmann-json, so nothing to add to LDLIBS.
