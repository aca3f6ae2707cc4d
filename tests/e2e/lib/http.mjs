// http — helpers for the Streamable HTTP MCP tests (/mcp): a hub with its
// HTTP face on an ephemeral loopback port, SDK agents over
// StreamableHTTPClientTransport, and raw requests (node:http) for checking
// the transport's framing byte by byte: JSON answers, SSE answers read
// event by event, the GET stream and its resumption.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Agent, ValidatingTransport, within } from './harness.mjs';

export const ACCEPT = 'application/json, text/event-stream';

/** Start `coordhub serve --daemon` with HTTP on an ephemeral loopback port;
 * resolves with {addr, token}. ws.cleanup() stops it. */
export async function startHttpHub(ws, env = {}) {
  const fd = ws.logFd('serve');
  const child = spawn(ws.bin, ['serve', '--daemon', ...ws.dirArgs(), '--http', '127.0.0.1:0'], {
    cwd: ws.root,
    env: ws.env(env),
    stdio: ['ignore', fd, fd],
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `coordhub serve --daemon exited with ${code}:\n${ws.log('serve')}`);
  const addr = readFileSync(path.join(ws.stateDir, 'http.addr'), 'utf8').trim();
  const token = readFileSync(path.join(ws.stateDir, 'token'), 'utf8').trim();
  assert.match(addr, /^127\.0\.0\.1:\d+$/);
  return { addr, token };
}

/** ValidatingTransport that does not count the SDK's own abort of its GET
 * stream when the client closes as a transport error. */
export class HttpValidatingTransport extends ValidatingTransport {
  async start() {
    const started = super.start();
    const report = this.inner.onerror;
    this.inner.onerror = (err) => {
      if (!this.closing) report(err);
    };
    return started;
  }

  close() {
    this.closing = true;
    return super.close();
  }
}

/** An SDK client over Streamable HTTP, its messages validated. */
export async function httpAgent(ws, hub, label) {
  const inner = new StreamableHTTPClientTransport(new URL(`http://${hub.addr}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${hub.token}` } },
  });
  const transport = new HttpValidatingTransport(inner, ws.validator(label));
  const client = new Client({ name: 'coordhub-e2e-http', version: '1.0.0' }, { capabilities: {} });
  const a = new Agent(ws, label, client, transport);
  ws.agents.push(a);
  await within(30000, client.connect(transport), `${label}: connect over HTTP`);
  await a.listAllTools();
  return a;
}

/** One raw HTTP request to `p` (default /mcp); resolves with
 * {status, headers, body}. */
export function raw(hub, method, headers = {}, body, p = '/mcp') {
  const [host, port] = hub.addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: p, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
      // A body cut off before its end (the server went away) settles too.
      res.on('error', reject);
      res.on('close', () => res.complete || reject(new Error(`the response to ${method} ${p} broke off`)));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(typeof body === 'string' ? body : JSON.stringify(body));
    else req.end();
  });
}

export function authed(hub, extra = {}) {
  return { Authorization: `Bearer ${hub.token}`, Accept: ACCEPT, 'Content-Type': 'application/json', ...extra };
}

export function initRequest(version = '2025-11-25') {
  return {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
}

export const INIT = initRequest();

/** initialize + initialized over raw HTTP at `version`; resolves with the
 * session id. */
export async function rawSession(hub, validator, version = '2025-11-25') {
  const init = initRequest(version);
  validator?.noteOutgoing(init);
  const r = await raw(hub, 'POST', authed(hub), init);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  const sid = r.headers['mcp-session-id'];
  assert.match(sid, /^[0-9a-f]{64}$/, 'a 256-bit random session id');
  const m = JSON.parse(r.body);
  validator?.check(m);
  assert.equal(m.result.protocolVersion, version);
  const n = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', method: 'notifications/initialized' });
  assert.equal(n.status, 202);
  assert.equal(n.body, '');
  return sid;
}

/** POST one request in session sid, answered in JSON; resolves with the
 * parsed response. */
export async function rawCall(hub, sid, msg, validator, version = '2025-11-25') {
  validator?.noteOutgoing(msg);
  const r = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid, 'MCP-Protocol-Version': version }), msg);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/, `a quick call is answered in JSON: ${r.body}`);
  const m = JSON.parse(r.body);
  validator?.check(m);
  assert.deepEqual(m.id, msg.id);
  return m;
}

/** Parse SSE text into events [{id, retry, data, comment}] (data joined by
 * LF, undefined when the block had no data line); blocks holding only
 * comments are left out. */
export function parseSse(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    const e = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const m = /^([a-z]+)(?:: ?(.*))?$/.exec(line);
      if (!m) continue;
      const [, field, value = ''] = m;
      if (field === 'data') e.data = e.data === undefined ? value : `${e.data}\n${value}`;
      else if (field === 'id' || field === 'retry' || field === 'event') e[field] = value;
    }
    if (Object.keys(e).length) events.push(e);
  }
  return events;
}

/** Open an SSE exchange (a POST answered with a stream, or a GET) and read
 * it event by event. Resolves, once the head is in, with
 * {status, headers, events, next(pred, ms), ended, close()}: `events` grows
 * as blocks arrive, next() resolves with the first event matching pred,
 * `ended` resolves with true when the server ended the body in order (false
 * if the connection broke), close() breaks the connection. */
export function openSse(hub, method, headers, body) {
  const [host, port] = hub.addr.split(':');
  return new Promise((resolve, reject) => {
    const events = [];
    const waiters = [];
    let buf = '';
    let endResolve;
    const ended = new Promise((r) => (endResolve = r));
    const req = http.request({ host, port, method, path: '/mcp', headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i + 2);
          buf = buf.slice(i + 2);
          for (const e of parseSse(block)) {
            events.push(e);
            for (const w of waiters.splice(0)) if (!w(e)) waiters.push(w);
          }
        }
      });
      res.on('end', () => endResolve(true));
      res.on('error', () => endResolve(false));
      res.on('close', () => endResolve(res.complete));
      resolve({
        status: res.statusCode,
        headers: res.headers,
        events,
        ended,
        next(pred, ms = 10000) {
          const seen = events.find(pred);
          if (seen) return Promise.resolve(seen);
          return within(ms, new Promise((r) => waiters.push((e) => (pred(e) ? (r(e), true) : false))), 'an SSE event');
        },
        close() {
          req.destroy();
        },
      });
    });
    req.on('error', (e) => {
      endResolve(false);
      reject(e);
    });
    if (body !== undefined) req.end(JSON.stringify(body));
    else req.end();
  });
}

/** Read a GET /mcp stream until `count` events with data arrived (or ms
 * passed); resolves with {status, events:[{id, msg}]} (ids as numbers). */
export function readStream(hub, sid, { lastEventId, count, ms = 5000 } = {}) {
  const [host, port] = hub.addr.split(':');
  const headers = { Authorization: `Bearer ${hub.token}`, Accept: 'text/event-stream', 'MCP-Session-Id': sid };
  if (lastEventId !== undefined) headers['Last-Event-ID'] = String(lastEventId);
  return new Promise((resolve, reject) => {
    const events = [];
    let buf = '';
    let status;
    const req = http.get({ host, port, path: '/mcp', headers }, (res) => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f = {};
          for (const line of block.split('\n')) {
            const m = /^(id|data): ?(.*)$/.exec(line);
            if (m) f[m[1]] = m[2];
          }
          if (f.data !== undefined) events.push({ id: Number(f.id), msg: JSON.parse(f.data) });
        }
        if (events.length >= count) finish();
      });
    });
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      req.destroy();
      resolve({ status, events });
    }
    req.on('error', (e) => (status === undefined ? reject(e) : finish()));
  });
}
