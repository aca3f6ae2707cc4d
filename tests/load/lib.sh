# Shared helpers for load tests: those of the integration tests, plus
# readings of the hub process.
# shellcheck source=../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# hub_rss_kb: the resident set of the running hub in KiB (0 when gone).
hub_rss_kb() {
  local pid
  pid=$(hub_pid)
  [ -n "$pid" ] && awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0
}

# hub_fds: how many descriptors the running hub holds.
hub_fds() {
  local pid
  pid=$(hub_pid)
  [ -n "$pid" ] && find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l || echo 0
}
