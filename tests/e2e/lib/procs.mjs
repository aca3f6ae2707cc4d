// procs — find and stop the processes a test started, through /proc.
//
// The hub runs as a daemon that is not our child, so it is found through
// hub.lock (its pid on the first line) or by scanning /proc for processes
// whose command line or environment mentions the test's private workspace
// directory. A zombie (exited, not yet reaped by its parent) counts as gone.

import { readFileSync, readdirSync } from 'node:fs';

function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`);
  } catch {
    return null;
  }
}

/** True while pid exists and is not a zombie. */
export function alive(pid) {
  const stat = readProc(pid, 'stat');
  if (!stat) return false;
  const s = stat.toString('latin1');
  const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && state !== '';
}

/** argv of pid, or null when it is gone. */
export function argvOf(pid) {
  const raw = readProc(pid, 'cmdline');
  if (!raw) return null;
  const parts = raw.toString('utf8').split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function environOf(pid) {
  const raw = readProc(pid, 'environ');
  return raw ? raw.toString('utf8') : '';
}

/** Live processes (not this one) whose argv or environment mentions needle. */
export function processesMentioning(needle) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !alive(pid)) continue;
    const argv = argvOf(pid);
    if (!argv || !argv.length) continue; // kernel threads
    if (argv.join('\0').includes(needle) || environOf(pid).includes(needle)) {
      out.push({ pid, argv });
    }
  }
  return out;
}

/** Hub processes (`coordhub serve …`) tied to the workspace directory root. */
export function hubProcesses(root) {
  return processesMentioning(root)
    .filter((p) => p.argv.slice(1).includes('serve'))
    .map((p) => p.pid);
}

/** Resolve once pid is gone (or a zombie), false after timeoutMs. The daemon
 * is not our child, so there is no exit event to wait for: poll. */
export async function waitGone(pid, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** SIGTERM, then SIGKILL after graceMs. Returns true when it is gone. */
export async function stopPid(pid, graceMs = 3000) {
  if (!alive(pid)) return true;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return true;
  }
  if (await waitGone(pid, graceMs)) return true;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return true;
  }
  return waitGone(pid, 3000);
}
