#!/usr/bin/env bash
# HTTPS: a hub with a throw-away self-signed certificate on a loopback
# port. /healthz, /status with the token, an /events stream and /mcp over
# TLS; plain HTTP to the TLS port and old protocols/ciphers fail without
# harming the hub; the URL and http.addr say https; bad certificate/key
# pairs are start-up errors naming the file; a non-loopback address is
# refused before anything is bound while no unrevoked API key exists (a
# revoked one does not count).
source "$(dirname "$0")/lib.sh"

# ---- throw-away certificates -------------------------------------------------
CERTS="$WORK/certs"
mkdir -p "$CERTS"
selfsigned() { # selfsigned NAME: $CERTS/NAME.crt and NAME.key for 127.0.0.1/localhost
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=coordhub-test" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$CERTS/$1.key" -out "$CERTS/$1.crt" 2>/dev/null
}
selfsigned hub
selfsigned other
[ -s "$CERTS/hub.crt" ] && [ -s "$CERTS/other.key" ] && ok "openssl made two certificates" ||
  { fail "openssl req failed"; finish; }

# ---- start-up errors (foreground: the message is on stderr, exit 1) ---------
# serve_fails DESC PATTERN ARGS...: `serve` exits 1 and stderr matches PATTERN.
serve_fails() {
  local desc=$1 pat=$2; shift 2
  local dir="$WORK/bad$PASSED$FAILED" rc=0
  mkdir -p "$dir"
  COORDHUB_ROOT="$dir" COORDHUB_STATE_DIR="$dir/.coordhub" \
    timeout 20 "$COORDHUB" serve "$@" >"$dir.out" 2>"$dir.err" || rc=$?
  if [ "$rc" = 1 ] && grep -q -- "$pat" "$dir.err" && [ ! -e "$dir/.coordhub/http.addr" ]; then
    ok "$desc"
  else
    fail "$desc (exit $rc)"; sed 's/^/    /' "$dir.err"
  fi
}
serve_fails "a key that is not the certificate's is refused" \
  "the TLS key $CERTS/other.key does not match the certificate $CERTS/hub.crt" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/other.key"
serve_fails "an unreadable certificate is refused with the reason" \
  "cannot read the TLS certificate $CERTS/missing.crt: No such file or directory" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/missing.crt" --tls-key "$CERTS/hub.key"
chmod 000 "$CERTS/other.key"
if [ "$(id -u)" != 0 ]; then
  serve_fails "a key without read permission is refused" \
    "cannot read the TLS key $CERTS/other.key: Permission denied" \
    --http 127.0.0.1:0 --tls-cert "$CERTS/other.crt" --tls-key "$CERTS/other.key"
fi
chmod 600 "$CERTS/other.key"
serve_fails "a key file given as the certificate is refused" \
  "the TLS certificate $CERTS/hub.key is not a PEM certificate" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/hub.key" --tls-key "$CERTS/hub.key"
serve_fails "a certificate given as the key is refused" \
  "the TLS key $CERTS/hub.crt is not an unencrypted PEM private key" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/hub.crt"
openssl pkey -in "$CERTS/hub.key" -aes256 -passout pass:secret -out "$CERTS/enc.key" 2>/dev/null
serve_fails "an encrypted key is refused, without a password prompt" \
  "the TLS key $CERTS/enc.key is not an unencrypted PEM private key" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/enc.key"
serve_fails "a certificate without its key is refused" "needs its private key too" \
  --http 127.0.0.1:0 --tls-cert "$CERTS/hub.crt"
COORDHUB_TLS_KEY="$CERTS/hub.key" serve_fails "a key without its certificate is refused" \
  "needs its certificate too" --http 127.0.0.1:0
serve_fails "TLS on the default address: a start-up error too, not a silent fallback" \
  "does not match" --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/other.key"

# ---- a hub on HTTPS ------------------------------------------------------------
COORDHUB_SSE_HEARTBEAT_MS=300 "$COORDHUB" serve --daemon --http 127.0.0.1:0 \
  --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/hub.key"
wait_for "$STATE/http.addr" ":" && ok "http.addr written" || { fail "no http.addr"; finish; }
URL=$(cat "$STATE/http.addr")
TOKEN=$(cat "$STATE/token")
HOSTPORT=${URL#https://}
[[ "$URL" =~ ^https://127\.0\.0\.1:[0-9]+$ ]] && [ "${URL##*:}" != 0 ] &&
  ok "http.addr says https ($URL)" || fail "http.addr: $URL"
grep -q "HTTP on https://$HOSTPORT/" "$STATE/hub.log" && ok "the log names the https URL" ||
  fail "log: $(grep HTTP "$STATE/hub.log")"
TLS=(--cacert "$CERTS/hub.crt")
AUTH=(-H "Authorization: Bearer $TOKEN")

[ "$(curl -s "${TLS[@]}" "$URL/healthz" | jq -r .status)" = ok ] &&
  ok "GET /healthz over TLS, certificate verified" || fail "healthz over TLS"
[ "$(curl -s "${TLS[@]}" "https://localhost:${URL##*:}/healthz" | jq -r .status)" = ok ] &&
  ok "…also by the name localhost" || fail "healthz via localhost"
code=$(curl -s -o /dev/null -w '%{http_code}' "${TLS[@]}" "$URL/status")
[ "$code" = 401 ] && ok "/status without the token: 401 over TLS too" || fail "status no token: $code"
curl -s "${TLS[@]}" "${AUTH[@]}" "$URL/status" >"$WORK/status"
[ "$(jq -r .enabled "$WORK/status")" = true ] && ok "GET /status with the token over TLS" ||
  fail "status: $(cat "$WORK/status")"
# The server's own refusals are JSON over TLS too, and 401 comes before 413.
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big"
code=$(curl -s -o "$WORK/big-out" -w '%{http_code}' "${TLS[@]}" "${AUTH[@]}" -H 'Content-Type: application/json' \
  --data-binary @"$WORK/big" "$URL/events")
[ "$code" = 413 ] && [ "$(jq -r .error.code "$WORK/big-out")" = too_large ] &&
  ok "a body over 1 MiB over TLS: 413 as JSON" || fail "big over TLS: $code $(head -c 200 "$WORK/big-out")"
code=$(curl -s -o "$WORK/big-out" -w '%{http_code}' "${TLS[@]}" -H 'Content-Type: application/json' \
  --data-binary @"$WORK/big" "$URL/events")
[ "$code" = 401 ] && [ "$(jq -r .error.code "$WORK/big-out")" = unauthorized ] &&
  ok "…and without a credential: 401" || fail "unauth big over TLS: $code $(head -c 200 "$WORK/big-out")"
rc=0
curl -s -o /dev/null --max-time 5 "$URL/healthz" 2>/dev/null || rc=$?
[ "$rc" = 60 ] && ok "a client that does not trust the certificate is refused by curl (rc 60)" ||
  fail "untrusted cert: rc $rc"

# Plain HTTP to the TLS port: no answer, the connection is closed, and the
# hub goes on serving.
rc=0
curl -s -o "$WORK/plain" --max-time 5 "http://$HOSTPORT/healthz" || rc=$?
[ "$rc" = 52 ] || [ "$rc" = 56 ] && ok "plain HTTP to the TLS port gets no answer (curl rc $rc)" ||
  fail "plain HTTP: rc $rc $(head -c 200 "$WORK/plain")"
[ "$(curl -s "${TLS[@]}" "$URL/healthz" | jq -r .status)" = ok ] &&
  ok "the hub serves TLS after the plain request" || fail "healthz after plain"

# Protocol floor and cipher policy, judged by the hub (an alert from it).
echo | timeout 10 openssl s_client -connect "$HOSTPORT" -tls1_1 >"$WORK/s11" 2>&1 || true
grep -q "alert protocol version" "$WORK/s11" && ok "TLS 1.1 is refused" ||
  fail "TLS 1.1: $(grep -i -m3 'protocol\|error' "$WORK/s11")"
rc=0
curl -s -o /dev/null "${TLS[@]}" --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA "$URL/healthz" \
  2>/dev/null || rc=$?
[ "$rc" = 35 ] && ok "a TLS 1.2 CBC cipher is refused" || fail "CBC cipher: rc $rc"
[ "$(curl -s "${TLS[@]}" --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 "$URL/healthz" |
  jq -r .status)" = ok ] && ok "TLS 1.2 with ECDHE+AES-GCM works" || fail "TLS 1.2 GCM"

# An /events stream over TLS carries a live event and heartbeats.
curl -sN "${TLS[@]}" "${AUTH[@]}" "$URL/events" >"$WORK/sse" 2>/dev/null &
SSE_PID=$!
wait_for "$WORK/sse" '^retry: ' && ok "the /events stream opens over TLS" || fail "no retry line"
"$COORDHUB" lock src/tls.c --agent tls-agent >/dev/null
wait_for "$WORK/sse" '^event: file:locked' && grep -q '"src/tls.c"' "$WORK/sse" &&
  ok "a live event arrives on the TLS stream" || fail "no live event: $(cat "$WORK/sse")"
wait_for "$WORK/sse" '^: ' && ok "heartbeats arrive on the TLS stream" || fail "no heartbeat"
kill "$SSE_PID" 2>/dev/null || true
wait "$SSE_PID" 2>/dev/null || true

# /mcp over TLS: initialize, then a tool call in the session.
mcp() { # mcp BODY [headers...]: POST /mcp, headers to $WORK/mh, body to stdout
  local body=$1; shift
  curl -s "${TLS[@]}" "${AUTH[@]}" -D "$WORK/mh" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' "$@" -d "$body" "$URL/mcp"
}
mcp '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"tls-test","version":"1"}}}' >"$WORK/init"
SID=$(grep -i '^MCP-Session-Id:' "$WORK/mh" | tr -d '\r' | cut -d' ' -f2)
[ -n "$SID" ] && [ "$(jq -r .result.protocolVersion "$WORK/init")" = 2025-06-18 ] &&
  ok "/mcp initialize over TLS" || fail "mcp init: $(cat "$WORK/init")"
H=(-H "MCP-Session-Id: $SID" -H "MCP-Protocol-Version: 2025-06-18")
mcp '{"jsonrpc":"2.0","method":"notifications/initialized"}' "${H[@]}" >/dev/null
mcp '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_locked_files","arguments":{}}}' \
  "${H[@]}" >"$WORK/call"
[ "$(jq -r '.result.structuredContent.locks[0].file' "$WORK/call")" = src/tls.c ] &&
  ok "/mcp tools/call over TLS" || fail "mcp call: $(cat "$WORK/call")"

# ---- non-loopback addresses ----------------------------------------------------
# Refused while no API key exists, before binding: asking for 0.0.0.0 on
# the port this hub already holds would fail with EADDRINUSE if a bind
# were attempted, so the refusal proves none was.
dir="$WORK/remote"
mkdir -p "$dir"
rc=0
COORDHUB_ROOT="$dir" COORDHUB_STATE_DIR="$dir/.coordhub" timeout 20 "$COORDHUB" serve \
  --http "0.0.0.0:${URL##*:}" --tls-cert "$CERTS/hub.crt" --tls-key "$CERTS/hub.key" \
  >"$dir.out" 2>"$dir.err" || rc=$?
[ "$rc" = 1 ] && grep -q "refusing to serve HTTP on 0.0.0.0:${URL##*:}: a non-loopback address" \
  "$dir.err" && ! grep -q "in use" "$dir.err" &&
  ok "0.0.0.0 is refused without API keys, before binding" || fail "0.0.0.0: rc $rc $(cat "$dir.err")"
grep -q "create one with 'coordhub key create' and start again, or use a loopback address such as 127.0.0.1:PORT" \
  "$dir.err" && ok "…and the refusal says what to do" || fail "refusal text: $(cat "$dir.err")"

# A key that has been revoked does not count: create one (the client
# starts a hub for that state dir, on a loopback ephemeral port), revoke
# it, stop that hub, and ask for 0.0.0.0 again.
remote() { COORDHUB_ROOT="$dir" COORDHUB_STATE_DIR="$dir/.coordhub" COORDHUB_HTTP=127.0.0.1:0 "$@"; }
KEY_ID=$(remote "$COORDHUB" key create --name remote --state read --json 2>/dev/null | jq -r .id)
[ -n "$KEY_ID" ] && [ "$KEY_ID" != null ] && ok "a key is created ($KEY_ID)" || fail "key create"
remote "$COORDHUB" key revoke "$KEY_ID" >/dev/null 2>&1 && ok "…and revoked" || fail "key revoke"
kpid=$(head -n1 "$dir/.coordhub/hub.lock" 2>/dev/null || true)
if [ -n "$kpid" ]; then
  kill -TERM "$kpid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$kpid" 2>/dev/null || break; sleep 0.1; done
fi
rc=0
remote timeout 20 "$COORDHUB" serve --http "0.0.0.0:${URL##*:}" >"$dir.out" 2>"$dir.err" || rc=$?
[ "$rc" = 1 ] && grep -q "refusing to serve HTTP on 0.0.0.0:${URL##*:}: a non-loopback address" \
  "$dir.err" && ok "only a revoked key: 0.0.0.0 is still refused" || fail "revoked key: rc $rc $(cat "$dir.err")"

# ---- shutdown ------------------------------------------------------------------
pid=$(hub_pid)
kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null && [ ! -e "$STATE/http.addr" ] &&
  ok "the TLS hub stops and removes http.addr" || fail "shutdown"
! grep -q "$TOKEN" "$STATE/hub.log" && ok "the token is never logged" || fail "token in the log"
finish
