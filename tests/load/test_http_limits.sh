#!/usr/bin/env bash
# Limits a client sees on the request head, whatever way it arrives: a
# head split over several writes that announces a body over 1 MiB gets
# 401 without a credential (the credential is judged on the head, before
# the body's size) and 413 with one; a request line over 8 KiB gets 414,
# a head over 64 KiB or with more than 128 fields 431 — each as JSON with
# the connection closed, and the hub serving afterwards. Bounded: six
# connections, each read for at most 5 s.
source "$(dirname "$0")/lib.sh"
RAW=(python3 "$(dirname "$0")/http_raw.py")

start_http_hub
PORT=${ADDR##*:}

# expect NAME WANT BYTES [http_raw args]: the first answer is WANT and the
# connection is closed.
expect() {
  local name=$1 want=$2 bytes=$3; shift 3
  printf '%b' "$bytes" | "${RAW[@]}" "$PORT" "$@" >"$WORK/out"
  if [ "$(head -n1 "$WORK/out")" = "STATUS $want" ] && [ "$(tail -n1 "$WORK/out")" = CLOSED ]; then
    ok "$name: $want, closed"
  else
    fail "$name: $(tr '\n' ' ' <"$WORK/out")"
  fi
}

big="POST /api/v1/locks HTTP/1.1\r\nHost: $ADDR\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n"
body=$(head -c 3000 /dev/zero | tr '\0' ' ')
expect "an oversized body, head in 5 writes, no credential" "401 unauthorized" "$big\r\n{$body" \
  --split-head 5 --delay 0.2
expect "an oversized body, head in 5 writes, a wrong credential" "401 unauthorized" \
  "${big}Authorization: Bearer wrong\r\n\r\n{$body" --split-head 5 --delay 0.2
expect "an oversized body, head in 5 writes, the admin token" "413 too_large" \
  "${big}Authorization: Bearer $TOKEN\r\n\r\n{$body" --split-head 5 --delay 0.2

long=$(head -c 9000 /dev/zero | tr '\0' a)
expect "a request line over 8 KiB" "414 uri_too_long" "GET /$long HTTP/1.1\r\nHost: $ADDR\r\n\r\n"
fill=$(head -c 1000 /dev/zero | tr '\0' v)
fields=""
for i in $(seq 70); do fields+="X-F$i: $fill\r\n"; done
expect "a head over 64 KiB" "431 headers_too_large" "GET /healthz HTTP/1.1\r\nHost: $ADDR\r\n$fields\r\n" \
  --split 3
fields=""
for i in $(seq 130); do fields+="X-F$i: v\r\n"; done
expect "a head with 130 fields" "431 headers_too_large" "GET /healthz HTTP/1.1\r\nHost: $ADDR\r\n$fields\r\n"

[ "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/api/v1/locks")" = 200 ] &&
  ok "the hub still serves" || fail "locks after the limits"
finish
