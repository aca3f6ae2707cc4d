#!/usr/bin/env bash
# Every executable of the build that calls cJSON installs the project's
# allocation hooks (base/json.h, json_use_xmalloc): the coordhub binary,
# each test and each fuzz driver (and the bench tool, should it ever call
# cJSON) imports cJSON_InitHooks along with the rest of cJSON, so none
# allocates JSON with plain malloc. (An executable
# registered without tests/support/json_hooks.c or fuzz/driver_init.c, or
# a main() that forgets the call, imports cJSON but not the hook.)
source "$(dirname "$0")/lib.sh"
BUILD=$(dirname "$(realpath "$COORDHUB")")

checked=0
for exe in "$COORDHUB" "$BUILD"/test_* "$BUILD"/fuzz_* "$BUILD"/bench/coordhub-bench; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  head -c 4 "$exe" | grep -q 'ELF' || continue
  imports=$(nm -D --undefined-only "$exe" 2>/dev/null | awk '{print $NF}')
  grep -q '^cJSON_' <<<"$imports" || continue
  checked=$((checked + 1))
  if grep -qx 'cJSON_InitHooks' <<<"$imports"; then ok "$(basename "$exe") installs cJSON's hooks"; else
    fail "$(basename "$exe") uses cJSON without installing the hooks"; fi
done
[ "$checked" -ge 40 ] && ok "$checked executables checked" || fail "only $checked executables use cJSON"
finish
