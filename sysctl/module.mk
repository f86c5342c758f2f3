# sysctl/: churn-sysctl (profiles in sysctl.d syntax, their lint, a namespace's sysctls read and written
# through /proc/sys, the read-only host check). Links probe's sock_diag for the listening ports.
