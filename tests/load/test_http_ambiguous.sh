#!/usr/bin/env bash
# Ambiguous requests (RFC 9112 says 400) are refused and nothing in them
# is routed: each shape below wraps a second, smuggled request that would
# take a lease (POST /api/v1/locks) if the server read the framing one
# way while a proxy read it another: two different Content-Length, a
# Content-Length with Transfer-Encoding, whitespace before a colon, a
# folded header, bare LF line ends; and two Host (the second would pass a
# DNS-rebinding check), two Origin, two Authorization, HTTP/1.1 without
# Host. Each gets 400 as JSON, the connection is closed, and afterwards
# the hub holds no lease and still serves. Bounded: a dozen connections,
# each read for at most 5 s.
source "$(dirname "$0")/lib.sh"
RAW=(python3 "$(dirname "$0")/http_raw.py")

start_http_hub
PORT=${ADDR##*:}

# smuggled FILE: a complete request taking a lease on FILE.
smuggled() {
  local body="{\"file\":\"$1\",\"agentId\":\"mallory\"}"
  printf 'POST /api/v1/locks HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$ADDR" "$TOKEN" "${#body}" "$body"
}
# shape NAME HEAD-LINES BODY: send "POST /healthz" with the extra head
# lines and BODY, and expect one 400 bad_request and a closed connection.
shape() {
  local name=$1 lines=$2 body=$3
  printf "POST /healthz HTTP/1.1\r\nHost: %s\r\n%b\r\n%b" "$ADDR" "$lines" "$body" |
    "${RAW[@]}" "$PORT" >"$WORK/out"
  if [ "$(head -n1 "$WORK/out")" = "STATUS 400 bad_request" ] && [ "$(tail -n1 "$WORK/out")" = CLOSED ] &&
    [ "$(grep -c STATUS "$WORK/out")" = 1 ]; then
    ok "$name: 400 bad_request, closed, nothing else answered"
  else
    fail "$name: $(tr '\n' ' ' <"$WORK/out")"
  fi
}

s1=$(smuggled smuggled-1.c)
shape "two different Content-Length" "Content-Length: 2\r\nContent-Length: $((2 + ${#s1}))\r\n" "{}$s1"
shape "two equal Content-Length" "Content-Length: 2\r\nContent-Length: 2\r\n" "{}$(smuggled smuggled-2.c)"
s3=$(smuggled smuggled-3.c)
shape "Content-Length with Transfer-Encoding" "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n" "0\r\n\r\n$s3"
s4=$(smuggled smuggled-4.c)
shape "whitespace before the colon" "Content-Length : ${#s4}\r\n" "$s4"
shape "a folded header" "X-A: b\r\n Content-Length: 40\r\n" "$(smuggled smuggled-5.c)"
shape "Transfer-Encoding with a space before the colon" "Transfer-Encoding : chunked\r\n" \
  "0\r\n\r\n$(smuggled smuggled-6.c)"

# single SHAPE-NAME BYTES: a request on its own, expected 400 and closed.
single() {
  printf "$2" | "${RAW[@]}" "$PORT" >"$WORK/out"
  if [ "$(head -n1 "$WORK/out")" = "STATUS 400 bad_request" ] && [ "$(tail -n1 "$WORK/out")" = CLOSED ]; then
    ok "$1: 400 bad_request, closed"
  else
    fail "$1: $(tr '\n' ' ' <"$WORK/out")"
  fi
}
lock_body='{"file":"smuggled-7.c","agentId":"mallory"}'
single "bare LF line ends" "POST /api/v1/locks HTTP/1.1\nHost: $ADDR\nAuthorization: Bearer $TOKEN\nContent-Type: application/json\nContent-Length: ${#lock_body}\n\n$lock_body"
single "two Host, the second another site" \
  "GET /mcp HTTP/1.1\r\nHost: $ADDR\r\nHost: evil.com\r\nAuthorization: Bearer $TOKEN\r\nAccept: text/event-stream\r\n\r\n"
single "two Origin" \
  "GET /api/v1/locks HTTP/1.1\r\nHost: $ADDR\r\nOrigin: http://127.0.0.1\r\nOrigin: http://evil.com\r\nAuthorization: Bearer $TOKEN\r\n\r\n"
single "two Authorization" \
  "GET /api/v1/locks HTTP/1.1\r\nHost: $ADDR\r\nAuthorization: Bearer $TOKEN\r\nAuthorization: Bearer other\r\n\r\n"
single "HTTP/1.1 without Host" "GET /api/v1/locks HTTP/1.1\r\nAuthorization: Bearer $TOKEN\r\n\r\n"
single "an absolute-form target" "GET http://evil.com/api/v1/locks HTTP/1.1\r\nHost: $ADDR\r\nAuthorization: Bearer $TOKEN\r\n\r\n"

# Nothing was routed: no lease, and the hub serves.
n=$(curl -s "${AUTH[@]}" "$URL/api/v1/locks" | jq '.locks | length')
[ "$n" = 0 ] && ok "no smuggled request took a lease" || fail "leases after the shapes: $n"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && ok "the hub still serves" ||
  fail "healthz after the shapes"
finish
