#!/usr/bin/env bash
# A monorepo whose agents start in different subdirectories: relative paths
# of an IDE bridge (`coordhub mcp`) resolve against the directory it was
# started in, so every agent names one file by one key.
source "$(dirname "$0")/lib.sh"

mkdir -p "$ROOT/packages/web/src" "$ROOT/packages/api/src"
echo x >"$ROOT/packages/web/src/x.ts"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"ide","version":"1"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
# mcp_in DIR OUT CALL-ARGS-JSON...: one `coordhub mcp` session started in
# DIR calling each TOOL:ARGS in turn (ids 2, 3, …); its answers in OUT.
# The bridge ends when its stdin does. Its stdout is a pipe with HANDOVER
# set (the hub takes the descriptors), else a file (the bridge relays).
mcp_in() {
  local dir=$1 out=$2
  shift 2
  if [ -n "${HANDOVER:-}" ]; then
    mcp_lines "$@" | (cd "$dir" && timeout 20 "$COORDHUB" mcp --agent "$(basename "$dir")-ide") \
      2>"$out.err" | cat >"$out"
  else
    mcp_lines "$@" | (cd "$dir" && timeout 20 "$COORDHUB" mcp --agent "$(basename "$dir")-ide") \
      >"$out" 2>"$out.err"
  fi
}
mcp_lines() {
  local id=2 a
  printf '%s\n%s\n' "$INIT" "$INITED"
  for a in "$@"; do
    printf '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":%s}}\n' \
      "$id" "${a%%:*}" "${a#*:}"
    id=$((id + 1))
  done
}
# answer OUT ID: the structured result (or error text) of call ID.
answer() { jq -c "select(.id == $2) | .result | (.structuredContent // .content[0].text)" "$1"; }

HANDOVER=1 mcp_in "$ROOT/packages/web" "$WORK/web.out" \
  'lock_file:{"file":"src/x.ts","reason":"web edit"}' \
  'check_lock:{"file":"./src/../src/x.ts"}' \
  'lock_file:{"file":"../../../outside.ts"}'
[ "$(answer "$WORK/web.out" 2 | jq -r .file)" = packages/web/src/x.ts ] \
  && ok "the web IDE's src/x.ts is leased as packages/web/src/x.ts" \
  || fail "web lock: $(answer "$WORK/web.out" 2)"
[ "$(answer "$WORK/web.out" 3 | jq -r .file)" = packages/web/src/x.ts ] \
  && ok "check_lock shows the workspace key it checked" || fail "check: $(answer "$WORK/web.out" 3)"
answer "$WORK/web.out" 4 | grep -q "argument 'file': path '../../../outside.ts' escapes the workspace root" \
  && ok "a path climbing out of the workspace is refused, named as given" \
  || fail "escape: $(answer "$WORK/web.out" 4)"

# The agent at the root names the same file by its full key and is refused
# (the web IDE's agent stays known through the grace period).
expect_code 3 "an agent at the root is refused packages/web/src/x.ts" -- \
  "$COORDHUB" lock packages/web/src/x.ts --agent root-agent
grep -q "web-ide" "$WORK/err" && ok "the refusal names the web IDE's agent" || fail "refusal: $(cat "$WORK/err")"

# An IDE in packages/api reaches the file through ../web and an absolute
# path; both are the same key.
mcp_in "$ROOT/packages/api" "$WORK/api.out" \
  'lock_file:{"file":"../web/src/x.ts"}' \
  "lock_file:{\"file\":\"$ROOT/packages/web/src/x.ts\"}" \
  'lock_file:{"file":"src/y.ts"}'
[ "$(answer "$WORK/api.out" 2 | jq -r '[.success, .file] | join(" ")')" = "false packages/web/src/x.ts" ] \
  && ok "../web/src/x.ts from packages/api conflicts" || fail "api: $(answer "$WORK/api.out" 2)"
[ "$(answer "$WORK/api.out" 3 | jq -r '[.success, .file] | join(" ")')" = "false packages/web/src/x.ts" ] \
  && ok "the absolute path conflicts too" || fail "api abs: $(answer "$WORK/api.out" 3)"
[ "$(answer "$WORK/api.out" 4 | jq -r .file)" = packages/api/src/y.ts ] \
  && ok "its own src/y.ts is packages/api/src/y.ts" || fail "api own: $(answer "$WORK/api.out" 4)"
grep -q "relative paths resolve against $ROOT/packages/api" "$STATE/hub.log" \
  && ok "the hub logs the directory a session resolves against" || fail "no log line"

finish
