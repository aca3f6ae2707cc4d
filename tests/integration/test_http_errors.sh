#!/usr/bin/env bash
# Every HTTP error is JSON, {"error":{"code","message"}} with its status,
# including the answers the server gives on the head before the router
# runs: a body over 1 MiB (413), a malformed request or oversized request
# head (400, 414 or 431), an unknown method (501); the router's own 404 and 405
# too. A request with an oversized body and no valid credential gets 401
# like any unauthenticated request (the credential is judged before the
# body's size), on a public path 413. Nothing is recorded, and the hub
# serves ordinary requests (keep-alive included) afterwards.
source "$(dirname "$0")/lib.sh"

start_http_hub
PORT=${ADDR##*:}

# code METHOD PATH [curl args...]: the status; body and head in $WORK.
code() {
  local m=$1 p=$2; shift 2
  curl -s -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' -X "$m" "$@" "$URL$p"
}
# is_json_error CODE: the body is {"error":{"code":CODE,"message":…}} served as JSON.
is_json_error() {
  grep -qi '^Content-Type: application/json' "$WORK/head" &&
    jq -e --arg c "$1" '.error.code == $c and (.error.message | type == "string" and length > 0)' \
      "$WORK/body" >/dev/null 2>&1
}
# raw BYTES: send BYTES on a fresh connection; the answer in $WORK/head and $WORK/body.
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT"
  printf '%b' "$1" >&3
  timeout 5 cat <&3 >"$WORK/raw" || true
  exec 3<&-
  sed -n '1,/^\r$/p' "$WORK/raw" >"$WORK/head"
  sed '1,/^\r$/d' "$WORK/raw" >"$WORK/body"
  head -n1 "$WORK/head" | awk '{print $2}'
}
last_seq() { curl -s "${AUTH[@]}" "$URL/api/v1/health" | jq -r .store.lastSeq; }
seq0=$(last_seq)

# ---- body over 1 MiB -------------------------------------------------------------
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big"
sed -i '1s/^ /{/' "$WORK/big"
[ "$(code POST /api/v1/locks "${AUTH[@]}" "${JSON[@]}" --data-binary @"$WORK/big")" = 413 ] &&
  is_json_error too_large && body_msg=$(jq -r .error.message "$WORK/body") &&
  [[ "$body_msg" == *"1048576 bytes"* ]] &&
  ok "an authenticated body over 1 MiB: 413 as JSON naming the limit" ||
  fail "413: $(head -n1 "$WORK/head") $(head -c 300 "$WORK/body")"
grep -qi '^Connection: close' "$WORK/head" && ok "and the connection is closed" || fail "413 keeps the connection"
[ "$(code POST /api/v1/locks "${JSON[@]}" --data-binary @"$WORK/big")" = 401 ] && is_json_error unauthorized &&
  grep -qi '^WWW-Authenticate: Bearer' "$WORK/head" &&
  ok "without a credential: 401 like any unauthenticated request, not 413" ||
  fail "unauth big: $(head -n1 "$WORK/head") $(head -c 300 "$WORK/body")"
[ "$(code POST /events "${JSON[@]}" -H "Authorization: Bearer wrong" --data-binary @"$WORK/big")" = 401 ] &&
  is_json_error unauthorized && ok "with a wrong credential: 401" ||
  fail "wrong cred big: $(head -n1 "$WORK/head") $(head -c 300 "$WORK/body")"
[ "$(code POST "/events?token=$TOKEN" "${JSON[@]}" --data-binary @"$WORK/big")" = 413 ] && is_json_error too_large &&
  ok "with a valid ?token=: 413" || fail "query token big: $(head -n1 "$WORK/head")"
[ "$(code POST "/events?token=nope" "${JSON[@]}" --data-binary @"$WORK/big")" = 401 ] && is_json_error unauthorized &&
  ok "with a wrong ?token=: 401" || fail "bad query token big: $(head -n1 "$WORK/head")"
[ "$(code POST /healthz --data-binary @"$WORK/big")" = 413 ] && is_json_error too_large &&
  ok "on the public /healthz: 413 as JSON" || fail "healthz big: $(head -n1 "$WORK/head") $(cat "$WORK/body")"
# The same without curl's Expect: 100-continue, the body sent at once.
[ "$(code POST /api/v1/locks "${JSON[@]}" -H 'Expect:' --data-binary @"$WORK/big")" = 401 ] &&
  is_json_error unauthorized && ok "without Expect: 100-continue too: 401" ||
  fail "unauth big no expect: $(head -n1 "$WORK/head")"

# ---- malformed requests and unknown methods -----------------------------------------
[ "$(raw 'GARBAGE\r\n\r\n')" = 400 ] && is_json_error bad_request &&
  ok "a malformed request line: 400 as JSON" || fail "garbage: $(cat "$WORK/raw")"
[ "$(raw 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n')" = 400 ] && is_json_error bad_request &&
  ok "a malformed Content-Length: 400 as JSON" || fail "bad length: $(cat "$WORK/raw")"
[ "$(raw 'BREW /status HTTP/1.1\r\nHost: x\r\n\r\n')" = 501 ] && is_json_error not_implemented &&
  ok "an unknown method: 501 as JSON" || fail "brew: $(cat "$WORK/raw")"
big_header=$(head -c 70000 /dev/zero | tr '\0' 'h')
st=$(code GET /status "${AUTH[@]}" -H "X-Big: $big_header")
case $st in 400 | 413 | 431) is_json_error "$(jq -r .error.code "$WORK/body")" &&
  [ "$(jq -r .error.code "$WORK/body")" != null ] && ok "a request head over 64 KiB: $st as JSON" ||
  fail "big head: $st $(cat "$WORK/body")" ;;
*) fail "big head: status $st $(head -c 300 "$WORK/body")" ;;
esac
long=$(head -c 70000 /dev/zero | tr '\0' 'u')
st=$(code GET "/$long" "${AUTH[@]}")
case $st in 400 | 413 | 414) [ "$(jq -r .error.code "$WORK/body" 2>/dev/null)" != "" ] &&
  grep -qi '^Content-Type: application/json' "$WORK/head" && ok "a URI over 64 KiB: $st as JSON" ||
  fail "long uri: $st $(head -c 300 "$WORK/body")" ;;
*) fail "long uri: status $st" ;;
esac

# ---- the router's own ------------------------------------------------------------
[ "$(code GET /no/such/path "${AUTH[@]}")" = 404 ] && is_json_error not_found && ok "404 as JSON" || fail "404"
[ "$(code PATCH /status "${AUTH[@]}")" = 405 ] && is_json_error method_not_allowed &&
  grep -qi '^Allow:' "$WORK/head" && ok "405 as JSON with Allow" || fail "405: $(cat "$WORK/body")"

# ---- nothing changed, and ordinary requests are served ---------------------------------
[ "$(last_seq)" = "$seq0" ] && ok "no refused request recorded anything" || fail "seq moved: $seq0 -> $(last_seq)"
curl -s -o "$WORK/k1" -w '%{http_code}\n' "${AUTH[@]}" "$URL/api/v1/locks" --next \
  -o "$WORK/k2" -w '%{http_code}\n' "${AUTH[@]}" "${JSON[@]}" -d '{"file":"a.c","agentId":"bob"}' \
  "$URL/api/v1/locks" >"$WORK/codes"
[ "$(tr '\n' ' ' <"$WORK/codes")" = "200 201 " ] && jq -e '.locks == []' "$WORK/k1" >/dev/null &&
  jq -e '.success == true' "$WORK/k2" >/dev/null && ok "ordinary requests on one keep-alive connection: 200 then 201" ||
  fail "keep-alive: $(cat "$WORK/codes") $(cat "$WORK/k1" "$WORK/k2")"
[ "$(code GET /status "${AUTH[@]}")" = 200 ] && ok "GET /status still answers" || fail "status"

for log in "$STATE/hub.log"; do
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" 2>/dev/null; then
    fail "sanitizer report in $log"
    grep -A30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -40
  fi
done
finish
