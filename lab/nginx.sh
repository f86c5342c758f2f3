# nginx.sh: the lab's nginx on the server host, from lab/nginx.conf.in. Sourced after lab/netns.sh by
# lab/bench.sh and lab/incident.sh (one way to start it, not two copies).
# shellcheck shell=bash
#
#   nginx_start LISTEN SIZE LOGDIR   fill in nginx.conf.in (@TMP@ = a lab temp dir, @LISTEN@ = ADDR:PORT,
#                                    @BODY@ = SIZE bytes), start nginx in $LAB_SRV in the background, wait
#                                    until it listens (5 s at most). The config is copied to LOGDIR/nginx.conf
#                                    and nginx's own output goes to LOGDIR/nginx.log. Status 1 if it is not
#                                    listening. Sets NGINX_TMP (its prefix dir, removed at lab_down).
# lab_down stops it with everything else in the namespace.

# Ready when listening. Asked of the kernel (ss -l), not by connecting: a probe connection would be one
# more in the numbers.
lab_listening() { ip netns exec "$LAB_SRV" ss -Hltn "sport = :$1" | grep -q .; }

nginx_start() {
  local listen=$1 size=$2 logdir=$3 body
  # The body is inlined in the config (`return 200 "..."`), and one argument to sed is capped at
  # 128 KiB (MAX_ARG_STRLEN).
  [ "$size" -le 65536 ] || { echo "nginx_start: SIZE=$size: the lab's nginx config supports up to 65536 bytes" >&2; return 1; }
  lab_tmpdir || return 1
  NGINX_TMP=$LAB_TMP
  body=$(head -c "$size" /dev/zero | tr '\0' x)
  sed -e "s|@TMP@|$NGINX_TMP|g" -e "s|@LISTEN@|$listen|g" -e "s|@BODY@|$body|" lab/nginx.conf.in > "$NGINX_TMP/nginx.conf"
  cp "$NGINX_TMP/nginx.conf" "$logdir/nginx.conf"
  # -e: the error log from the first moment, before the config is read (else /var/log/nginx/error.log).
  ip netns exec "$LAB_SRV" nginx -p "$NGINX_TMP" -c "$NGINX_TMP/nginx.conf" -e "$NGINX_TMP/error.log" \
    > "$logdir/nginx.log" 2>&1 &
  local _
  for _ in $(seq 1 100); do lab_listening "${listen##*:}" && return 0; sleep 0.05; done
  echo "nginx_start: nginx is not listening on $listen after 5 s:" >&2
  cat "$logdir/nginx.log" "$NGINX_TMP/error.log" >&2 2>/dev/null
  return 1
}
