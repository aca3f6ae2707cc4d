// raw — a line-level MCP client for tests that send what no SDK would:
// malformed JSON, invalid UTF-8, oversized lines, requests before
// initialize. It talks either to a `coordhub mcp` bridge over stdio or
// straight to the hub's Unix socket (`<state>/hub.sock`); both use the same
// newline-delimited JSON-RPC framing.
//
// Every line received is checked by a MessageValidator like the SDK
// clients' messages are, so a bad-input test also proves the error
// responses are well-formed.

import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import net from 'node:net';
import { within } from './harness.mjs';

export class RawConn {
  /** @private use RawConn.bridge or RawConn.socket */
  constructor(ws, label, validator) {
    this.ws = ws;
    this.label = label;
    this.validator = validator;
    this.messages = [];
    this.waiters = [];
    this.buf = Buffer.alloc(0);
    this.nextId = 1;
    this.writeError = null;
    this.ended = false;
    this.mark0 = 0; // next() looks at messages from this index on
    this.closed = new Promise((resolve) => (this._resolveClosed = resolve));
    ws.closers.push(() => this.close());
  }

  /** Spawn `coordhub mcp` for workspace ws and talk to it over stdio. */
  static bridge(ws, { label = 'raw-bridge', args = [], env = {} } = {}) {
    const c = new RawConn(ws, label, ws.validator(label));
    const fd = ws.logFd(label);
    const child = spawn(ws.bin, ['mcp', ...ws.dirArgs(), ...args], {
      cwd: ws.root,
      env: ws.env(env),
      stdio: ['pipe', 'pipe', fd],
    });
    closeSync(fd);
    c.child = child;
    c.out = child.stdin;
    c.out.on('error', (e) => (c.writeError = e));
    child.stdout.on('data', (d) => c.onData(d));
    child.stdout.on('close', () => c.onEnd());
    child.on('error', (e) => {
      c.writeError = e;
      c.onEnd();
    });
    return c;
  }

  /** Connect to the hub's Unix socket of workspace ws. */
  static socket(ws, { label = 'raw-socket' } = {}) {
    const c = new RawConn(ws, label, ws.validator(label));
    const s = net.createConnection(ws.socketPath);
    c.sock = s;
    c.out = s;
    s.on('data', (d) => c.onData(d));
    s.on('error', (e) => (c.writeError = e));
    s.on('close', () => c.onEnd());
    return within(10000, new Promise((resolve, reject) => {
      s.once('connect', () => resolve(c));
      s.once('error', reject);
    }), `${label}: connect to ${ws.socketPath}`);
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    let i;
    while ((i = this.buf.indexOf(0x0a)) >= 0) {
      const line = this.buf.subarray(0, i).toString('utf8');
      this.buf = this.buf.subarray(i + 1);
      if (line.trim() === '') {
        this.validator.violation('empty line on the wire');
        continue;
      }
      const msg = this.validator.checkLine(line);
      if (msg === undefined) continue;
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => !w.match(msg));
    }
  }

  onEnd() {
    if (this.ended) return;
    this.ended = true;
    if (this.buf.length) this.validator.violation(`connection ended inside a line (${this.buf.length} bytes without newline)`);
    for (const w of this.waiters) w.end();
    this.waiters = [];
    this._resolveClosed();
  }

  /** Write bytes exactly as given (no newline added). Resolves when written
   * or when the peer is gone (then writeError is set). */
  writeRaw(bytes) {
    return new Promise((resolve) => {
      if (this.ended || this.out.destroyed || this.out.writableEnded) {
        resolve(false);
        return;
      }
      try {
        this.out.write(bytes, (err) => {
          if (err) this.writeError = err;
          resolve(!err);
        });
      } catch (e) {
        this.writeError = e;
        resolve(false);
      }
    });
  }

  /** Send one line: an object (JSON-encoded), a string or a Buffer; a
   * newline is appended. */
  sendLine(line) {
    const body = Buffer.isBuffer(line) ? line : Buffer.from(typeof line === 'string' ? line : JSON.stringify(line), 'utf8');
    this.noteSent(line);
    return this.writeRaw(Buffer.concat([body, Buffer.from('\n')]));
  }

  // Tell the validator about an id we send, so that an answer to it is
  // expected even when the line is not a valid request (the hub may echo a
  // readable id in its -32600 error).
  noteSent(line) {
    let msg = line;
    if (typeof line === 'string' || Buffer.isBuffer(line)) {
      if (line.length > 65536) return;
      try {
        msg = JSON.parse(line.toString());
      } catch {
        return;
      }
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return;
    if ('id' in msg && (typeof msg.id === 'string' || Number.isInteger(msg.id))) {
      this.validator.noteOutgoing({ ...msg, method: typeof msg.method === 'string' ? msg.method : '(invalid request)' });
    } else {
      this.validator.noteOutgoing(msg);
    }
  }

  /** Note a request we send in a hand-made line so its answer is checked
   * against its method's result type. */
  expectAnswer(id, method, params) {
    this.validator.noteOutgoing({ jsonrpc: '2.0', id, method, params });
  }

  /** The first message (received or future) matching pred; rejects on
   * timeout or when the connection ends first. */
  next(pred, timeoutMs = 10000, what = 'message', from = this.mark0) {
    const seen = this.messages.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    if (this.ended) return Promise.reject(new Error(`${this.label}: connection closed before ${what}`));
    return within(timeoutMs, new Promise((resolve, reject) => {
      this.waiters.push({
        match: (m) => (pred(m) ? (resolve(m), true) : false),
        end: () => reject(new Error(`${this.label}: connection closed before ${what}`)),
      });
    }), `${this.label}: ${what}`);
  }

  /** Index of the next message to arrive: pass it as `from` to next(), or
   * call markNow() so that next() ignores everything received so far. */
  mark() {
    return this.messages.length;
  }

  markNow() {
    this.mark0 = this.messages.length;
  }

  /** The response to request id. */
  response(id, timeoutMs = 10000) {
    return this.next((m) => 'id' in m && m.id === id && !('method' in m), timeoutMs, `response to id ${JSON.stringify(id)}`);
  }

  /** Send a request and resolve with its response message. */
  async request(method, params, { id, timeoutMs = 10000 } = {}) {
    if (id === undefined) id = this.nextId++;
    const msg = { jsonrpc: '2.0', id, method };
    if (params !== undefined) msg.params = params;
    await this.sendLine(msg);
    return this.response(id, timeoutMs);
  }

  notify(method, params) {
    const msg = { jsonrpc: '2.0', method };
    if (params !== undefined) msg.params = params;
    return this.sendLine(msg);
  }

  /** initialize + notifications/initialized; resolves with the result. */
  async initialize(protocolVersion = '2025-11-25', clientInfo = { name: 'coordhub-e2e-raw', version: '1.0.0' }) {
    const r = await this.request('initialize', { protocolVersion, capabilities: {}, clientInfo });
    if (r.error) throw new Error(`${this.label}: initialize failed: ${JSON.stringify(r.error)}`);
    await this.notify('notifications/initialized');
    return r.result;
  }

  /** tools/call; resolves with the response message. */
  callTool(name, args, opts) {
    return this.request('tools/call', { name, arguments: args }, opts);
  }

  async close() {
    if (this.sock) this.sock.destroy();
    if (this.child) {
      try {
        this.child.stdin.end();
      } catch {
        /* gone */
      }
      const exited = this.child.exitCode !== null || this.child.signalCode !== null;
      if (!exited) {
        const done = new Promise((r) => this.child.once('exit', r));
        const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
        await done;
        clearTimeout(t);
      }
    }
  }
}
