// harness — workspaces, hub processes and schema-checked MCP clients for the
// end-to-end tests.
//
// Every test gets a fresh Workspace: a private temp directory used as the
// workspace root, with the state directory `<root>/.coordhub`. Clients are
// the official MCP TypeScript SDK Client over StdioClientTransport running
// `$COORDHUB_BIN mcp --state-dir … --root …` (which starts the hub daemon
// when none runs). Each transport is wrapped by ValidatingTransport, which
// checks every incoming message against the official MCP schema (see
// schema.mjs) and records violations in the workspace.
//
// Workspace.cleanup() (registered with t.after by workspace()) closes the
// clients, stops every hub and bridge of the workspace (SIGTERM, then
// SIGKILL), removes the directory and then fails the test if any message
// violated the schema — also when the test itself failed first.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, openSync, closeSync, accessSync, constants, mkdirSync, realpathSync } from 'node:fs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { MessageValidator, ToolSchemas } from './schema.mjs';
import { hubProcesses, processesMentioning, stopPid, alive } from './procs.mjs';

export { alive, hubProcesses, waitGone } from './procs.mjs';

/** Path of the coordhub binary under test (COORDHUB_BIN). */
export function coordhubBin() {
  const bin = process.env.COORDHUB_BIN;
  if (!bin) throw new Error('COORDHUB_BIN is not set: point it at the built coordhub binary');
  accessSync(bin, constants.X_OK);
  return path.resolve(bin);
}

/** Reject with a clear message if p does not settle within ms. */
export function within(ms, p, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A promise plus a synchronous view of whether it has settled. */
export function track(p) {
  const state = { settled: false, value: undefined, error: undefined };
  state.promise = p.then(
    (v) => {
      state.settled = true;
      state.value = v;
      return v;
    },
    (e) => {
      state.settled = true;
      state.error = e;
      throw e;
    },
  );
  state.promise.catch(() => {});
  return state;
}

// Environment passed to processes we start: nothing of ours leaks in
// (no inherited COORDHUB_*), sanitizer options pass through.
function childEnv(extra) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return { ...env, ...extra };
}

/**
 * Wraps a client transport: notes outgoing requests (so responses can be
 * checked against the result type of their method), checks every incoming
 * message, and lets tests await incoming messages. `protocolVersion`
 * rewrites the version the SDK puts in its initialize request, so an SDK
 * client can negotiate an older revision.
 */
export class ValidatingTransport {
  constructor(inner, validator, { protocolVersion } = {}) {
    this.inner = inner;
    this.validator = validator;
    this.protocolVersion = protocolVersion;
    this.received = [];
    this.waiters = [];
  }

  async start() {
    this.inner.onmessage = (msg, extra) => {
      this.validator.check(msg);
      this.received.push(msg);
      this.waiters = this.waiters.filter((w) => !w.match(msg));
      this.onmessage?.(msg, extra);
    };
    this.inner.onerror = (err) => {
      // The SDK reports here the lines it could not parse as JSON-RPC.
      this.validator.violation(`transport error: ${err && err.message}`);
      this.onerror?.(err);
    };
    this.inner.onclose = () => this.onclose?.();
    return this.inner.start();
  }

  async send(msg, options) {
    if (this.protocolVersion && msg.method === 'initialize' && msg.params) {
      msg = { ...msg, params: { ...msg.params, protocolVersion: this.protocolVersion } };
    }
    this.validator.noteOutgoing(msg);
    return this.inner.send(msg, options);
  }

  close() {
    return this.inner.close();
  }

  setProtocolVersion(v) {
    this.inner.setProtocolVersion?.(v);
  }

  get pid() {
    return this.inner.pid;
  }

  /** Resolve with the first incoming message (already received or future)
   * for which pred is true. */
  nextMessage(pred, timeoutMs = 10000, what = 'message', from = 0) {
    const seen = this.received.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return within(timeoutMs, new Promise((resolve) => {
      this.waiters.push({ match: (m) => (pred(m) ? (resolve(m), true) : false) });
    }), what);
  }
}

/** One MCP client session (an "agent") through `coordhub mcp`. */
export class Agent {
  constructor(ws, label, client, transport) {
    this.ws = ws;
    this.label = label;
    this.client = client;
    this.transport = transport;
    this.agentId = undefined;
  }

  /** tools/call; resolves with the whole CallToolResult. */
  tool(name, args = {}, { timeout = 60000, signal } = {}) {
    return this.client.callTool({ name, arguments: args }, undefined, { timeout, signal });
  }

  /** tools/call that must succeed as a call (isError absent or false);
   * resolves with its structuredContent. */
  async ok(name, args = {}, opts) {
    const r = await this.tool(name, args, opts);
    assert.ok(!r.isError, `[${this.label}] ${name}(${JSON.stringify(args)}) returned isError: ${JSON.stringify(r.content)}`);
    assert.equal(typeof r.structuredContent, 'object', `[${this.label}] ${name}: no structuredContent`);
    return r.structuredContent;
  }

  /** Replace the client's MCP roots and send notifications/roots/list_changed. */
  async setRoots(roots) {
    this.roots = roots;
    await this.client.sendRootsListChanged();
  }

  /** register_agent; remembers the agent id. */
  async register(args = {}) {
    const r = await this.ok('register_agent', args);
    assert.equal(typeof r.agentId, 'string', `register_agent result has no agentId: ${JSON.stringify(r)}`);
    this.agentId = r.agentId;
    return r;
  }

  /** The current event cursor: lastId of an immediate wait_for_events. */
  async cursor() {
    const r = await this.ok('wait_for_events', { timeoutMs: 0 });
    return r.lastId;
  }

  /** Every tool of tools/list, following pagination. */
  async listAllTools() {
    const tools = [];
    let cursor;
    for (let page = 0; page < 100; page++) {
      const r = await this.client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...r.tools);
      if (!r.nextCursor) return tools;
      cursor = r.nextCursor;
    }
    throw new Error('tools/list pagination did not end after 100 pages');
  }

  /** The first incoming message matching pred among those received after
   * index `from` of transport.received (default: any), or a future one. */
  nextMessage(pred, timeoutMs, what, from) {
    return this.transport.nextMessage(pred, timeoutMs, what, from);
  }

  /** Index to pass as `from` so only messages received from now on match. */
  mark() {
    return this.transport.received.length;
  }

  get bridgePid() {
    return this.transport.pid;
  }

  async close() {
    try {
      await this.client.close();
    } catch {
      /* already closed */
    }
  }
}

// Workspaces not yet cleaned up. If the test process is ended early (a
// signal, an uncaught error), their hubs are killed on the way out so no
// daemon outlives the run.
const live = new Set();
function killAllSync() {
  for (const ws of live) {
    // Bridges first (one may be about to start a hub), then the hubs.
    for (let pass = 0; pass < 2; pass++) {
      for (const p of processesMentioning(ws.root)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    if (!process.env.E2E_KEEP) rmSync(ws.root, { recursive: true, force: true });
  }
}
process.once('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllSync();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

export class Workspace {
  constructor(label) {
    this.bin = coordhubBin();
    // realpath: the hub may report canonical paths (/tmp may be a link).
    this.root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'coordhub-e2e-')));
    this.stateDir = path.join(this.root, '.coordhub');
    this.logDir = path.join(this.root, '.e2e-logs');
    mkdirSync(this.logDir);
    this.label = label;
    this.violations = [];
    this.toolSchemas = new ToolSchemas();
    this.agents = [];
    this.closers = [];
    this.children = [];
    this.seq = 0;
    live.add(this);
  }

  get socketPath() {
    return path.join(this.stateDir, 'hub.sock');
  }

  /** Arguments that point a coordhub command at this workspace. */
  dirArgs() {
    return ['--state-dir', this.stateDir, '--root', this.root];
  }

  env(extra = {}) {
    return childEnv(extra);
  }

  validator(label) {
    return new MessageValidator({ label, violations: this.violations, toolSchemas: this.toolSchemas });
  }

  /** A stderr log file for a process we start (an fd the child inherits). */
  logFd(label) {
    return openSync(path.join(this.logDir, `${label.replace(/[^\w.-]/g, '_')}.stderr`), 'a');
  }

  /**
   * Connect an SDK client through a new `coordhub mcp` process.
   *   agent            — passed as --agent
   *   protocolVersion  — asked for in initialize (default: the SDK's latest)
   *   listTools        — fetch tools/list first so tool results are checked
   *                      against their outputSchema (default true)
   *   cwd              — the directory the bridge starts in (default: the root)
   *   roots            — MCP roots ([{uri, name?}]): the client declares the
   *                      `roots` capability and answers roots/list with them;
   *                      agent.setRoots() changes them and notifies the hub
   */
  async client({ label, agent, protocolVersion, env = {}, args = [], listTools = true, name = 'coordhub-e2e', timeout = 30000, cwd, roots } = {}) {
    label = label || agent || `client-${++this.seq}`;
    const fd = this.logFd(label);
    const inner = new StdioClientTransport({
      command: this.bin,
      args: ['mcp', ...this.dirArgs(), ...(agent ? ['--agent', agent] : []), ...args],
      env: this.env(env),
      cwd: cwd || this.root,
      stderr: fd,
    });
    const transport = new ValidatingTransport(inner, this.validator(label), { protocolVersion });
    const client = new Client({ name, version: '1.0.0' }, { capabilities: roots ? { roots: { listChanged: true } } : {} });
    const a = new Agent(this, label, client, transport);
    if (roots) {
      a.roots = roots;
      a.rootsListed = 0;
      client.setRequestHandler(ListRootsRequestSchema, () => {
        a.rootsListed++;
        return { roots: a.roots };
      });
    }
    this.agents.push(a);
    try {
      await within(timeout, client.connect(transport, { timeout }), `${label}: connect (initialize)`);
    } finally {
      closeSync(fd); // the child has its own copy
    }
    if (listTools) await a.listAllTools();
    return a;
  }

  /** Start `coordhub serve` in the foreground (our child) and wait until its
   * socket accepts connections. */
  async startHub({ args = [], timeout = 15000 } = {}) {
    const fd = this.logFd('serve');
    const child = spawn(this.bin, ['serve', ...this.dirArgs(), '--no-http', ...args], {
      cwd: this.root,
      env: this.env(),
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.children.push(child);
    let exited = null;
    child.on('exit', (code, sig) => (exited = `exited with ${code === null ? sig : code}`));
    const deadline = Date.now() + timeout;
    while (!(await canConnect(this.socketPath))) {
      if (exited) throw new Error(`coordhub serve ${exited} before its socket was ready; log:\n${this.log('serve')}`);
      if (Date.now() > deadline) throw new Error(`coordhub serve: ${this.socketPath} not accepting after ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return child;
  }

  /** The pid on the first line of hub.lock, or null. */
  hubLockPid() {
    try {
      const first = readFileSync(path.join(this.stateDir, 'hub.lock'), 'utf8').split('\n')[0].trim();
      return /^\d+$/.test(first) ? Number(first) : null;
    } catch {
      return null;
    }
  }

  /** Live `coordhub serve` processes of this workspace. */
  hubPids() {
    return hubProcesses(this.root);
  }

  log(label) {
    try {
      return readFileSync(path.join(this.logDir, `${label}.stderr`), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  }

  /** Fail if any message so far violated the schema or the contract. */
  assertNoViolations() {
    assert.deepEqual(this.violations, [], `${this.violations.length} protocol violation(s):\n${this.violations.join('\n')}`);
  }

  async cleanup() {
    live.delete(this);
    await Promise.allSettled(this.agents.map((a) => a.close()));
    await Promise.allSettled(this.closers.map((c) => c()));
    const pids = new Set(this.hubPids());
    const lockPid = this.hubLockPid();
    if (lockPid && alive(lockPid)) {
      const argv = readArgv(lockPid);
      if (argv && argv.join(' ').includes('serve')) pids.add(lockPid);
    }
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) pids.add(c.pid);
    await Promise.allSettled([...pids].map((p) => stopPid(p)));
    // Anything else still tied to this workspace (a bridge that did not exit).
    await Promise.allSettled(processesMentioning(this.root).map((p) => stopPid(p.pid, 1000)));
    // A sanitizer build reports memory errors, undefined behaviour and (at
    // the graceful stop above) leaks in the daemon's log; a bridge would
    // otherwise hide a crashed hub by starting a new one.
    try {
      const log = readFileSync(path.join(this.stateDir, 'hub.log'), 'utf8');
      const m = log.match(/(ERROR: (Address|Leak)Sanitizer|runtime error:)[^\n]*/);
      if (m) this.violations.push(`hub.log has a sanitizer report: ${m[0]}\n${log.slice(m.index, m.index + 3000)}`);
    } catch {
      // no daemon log: the hub ran in the foreground or never started
    }
    if (process.env.E2E_KEEP) {
      console.error(`# ${this.label}: kept ${this.root}`);
    } else {
      rmSync(this.root, { recursive: true, force: true });
    }
    if (this.violations.length) {
      // Shown even when the test already failed for another reason.
      console.error(`# ${this.label}: ${this.violations.length} protocol violation(s):\n# ` + this.violations.join('\n# '));
    }
    this.assertNoViolations();
  }
}

function readArgv(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** True when a Unix socket at p accepts a connection. */
export function canConnect(p) {
  return new Promise((resolve) => {
    const s = net.createConnection(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A fresh workspace for test context t, cleaned up when t ends. */
export function workspace(t) {
  const ws = new Workspace(t.name);
  t.after(() => ws.cleanup());
  return ws;
}

/** Several clients connected concurrently. */
export function clients(ws, specs) {
  return Promise.all(specs.map((s) => ws.client(s)));
}
