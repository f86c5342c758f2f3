# probe/: churn-probe (socket states over sock_diag, tcp_info, nstat counters, watch, diff, triage).
# Header-only CLI11 and nlohmann-json, and the kernel's uapi headers: nothing to add to LDLIBS.
