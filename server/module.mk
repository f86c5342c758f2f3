# server/: churn-server, the HTTP/1.1 peer (build/bin/churn-server). Header-only CLI11 and nlohmann-json,
# so no extra libraries to link.
