// GET /events over real sockets against the real binary: a subscriber that
// stops reading (a paused socket) is cut off at its queue bound while one
// that reads keeps receiving every event, publishers (an SDK agent over
// `coordhub mcp`) are never held up, and the cut-off subscriber resumes
// with Last-Event-ID and gets exactly what it missed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { workspace, within } from './lib/harness.mjs';

/** Start `coordhub serve --daemon` with HTTP on an ephemeral loopback port;
 * resolves with {addr, token} once it is up. ws.cleanup() stops it. */
async function startHttpHub(ws) {
  const fd = ws.logFd('serve');
  const child = spawn(ws.bin, ['serve', '--daemon', ...ws.dirArgs(), '--http', '127.0.0.1:0'], {
    cwd: ws.root,
    env: ws.env(),
    stdio: ['ignore', fd, fd],
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `coordhub serve --daemon exited with ${code}:\n${ws.log('serve')}`);
  const addr = readFileSync(path.join(ws.stateDir, 'http.addr'), 'utf8').trim();
  const token = readFileSync(path.join(ws.stateDir, 'token'), 'utf8').trim();
  assert.match(addr, /^127\.0\.0\.1:\d+$/);
  return { addr, token };
}

/** Parse SSE text incrementally; calls onFrame({id, event, data}). */
function sseParser(onFrame) {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const f = {};
      for (const line of block.split('\n')) {
        const m = /^(id|event|data|retry): ?(.*)$/.exec(line);
        if (m) f[m[1]] = m[2];
      }
      onFrame(f);
    }
  };
}

/** A subscriber over node's HTTP client (reads as fast as it can). */
function fastSubscriber(addr, token, headers = {}) {
  const [host, port] = addr.split(':');
  const s = { ids: [], frames: [], ended: false, opened: null };
  s.opened = new Promise((resolve, reject) => {
    s.req = http.get({ host, port, path: '/events', headers: { Authorization: `Bearer ${token}`, ...headers } }, (res) => {
      s.status = res.statusCode;
      res.setEncoding('utf8');
      const feed = sseParser((f) => {
        if (f.retry !== undefined) resolve();
        if (f.event && f.event !== 'resync') s.ids.push(Number(f.id));
        if (f.event) s.frames.push(f);
      });
      res.on('data', feed);
      res.on('end', () => (s.ended = true));
      res.on('error', () => (s.ended = true));
    });
    s.req.on('error', reject);
  });
  return s;
}

/** A subscriber on a raw socket (HTTP/1.0: no chunked framing) that can be
 * paused: it then takes nothing from the kernel. */
function rawSubscriber(addr, token) {
  const [host, port] = addr.split(':');
  const s = { text: '', ids: [], closed: false };
  const feed = sseParser((f) => {
    if (f.event && f.event !== 'resync') s.ids.push(Number(f.id));
  });
  let head = true;
  s.sock = net.createConnection({ host, port: Number(port) });
  s.sock.setEncoding('utf8');
  s.opened = new Promise((resolve) => {
    s.sock.on('data', (d) => {
      if (head) {
        s.text += d;
        const i = s.text.indexOf('\r\n\r\n');
        if (i < 0) return;
        head = false;
        d = s.text.slice(i + 4);
        s.status = Number(s.text.slice(9, 12));
      }
      feed(d);
      if (d.includes('retry: ')) resolve();
    });
  });
  s.sock.on('close', () => (s.closed = true));
  s.sock.write(`GET /events?token=${token} HTTP/1.0\r\nHost: ${addr}\r\n\r\n`);
  return s;
}

function until(pred, ms, what) {
  return within(ms, new Promise((resolve) => {
    const t = setInterval(() => {
      if (pred()) {
        clearInterval(t);
        resolve();
      }
    }, 20);
  }), what);
}

function contiguous(ids) {
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1] + 1) return `gap or duplicate at #${i}: ${ids[i - 1]} then ${ids[i]}`;
  return null;
}

async function metric(addr, token, name) {
  const r = await fetch(`http://${addr}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await r.text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

test('a stalled subscriber is cut off at its bound; a reading one gets everything; the cut one resumes exactly', { timeout: 180000 }, async (t) => {
  const ws = workspace(t);
  const { addr, token } = await startHttpHub(ws);
  const pub = await ws.client({ agent: 'publisher' });
  const first = Number(await pub.cursor()) + 1;

  const fast = fastSubscriber(addr, token);
  const slow = rawSubscriber(addr, token);
  await within(10000, Promise.all([fast.opened, slow.opened]), 'both streams open');
  assert.equal(fast.status, 200);
  assert.equal(slow.status, 200);
  slow.sock.pause(); // stops reading: the hub's queue for it grows

  // ~2 KB events, in concurrent batches: 8000 of them is ~16 MB, far past
  // the 4 MiB bound plus what the kernel buffers on both sides.
  const pad = 'x'.repeat(2000);
  const N = 8000;
  let published = 0;
  const t0 = Date.now();
  while (published < N) {
    const batch = [];
    for (let i = 0; i < 10; i++, published++) batch.push(pub.ok('publish_event', { type: 'load:tick', data: { n: published, pad } }));
    await Promise.all(batch);
  }
  const last = first + N - 1;
  const publishMs = Date.now() - t0;

  await until(() => fast.ids.length && fast.ids[fast.ids.length - 1] >= last, 60000, 'the reading subscriber gets the last event');
  assert.equal(fast.ids[0], first);
  assert.equal(contiguous(fast.ids), null, contiguous(fast.ids));
  assert.equal(fast.ids.length, N);
  assert.equal(fast.ended, false, 'the reading subscriber is still connected');

  assert.ok((await metric(addr, token, 'coordhub_sse_cut_off_total')) >= 1, 'the hub counted a cut-off subscriber');
  // The stalled one reads again: what the kernel held for it, then the end.
  slow.sock.resume();
  await until(() => slow.closed, 30000, 'the stalled subscriber sees its stream end');
  assert.ok(slow.ids.length < N, `the stalled subscriber was cut before the end (${slow.ids.length} of ${N})`);
  assert.equal(contiguous(slow.ids), null, contiguous(slow.ids));

  // Resume from the last event it got: exactly the rest.
  const lastSeen = slow.ids.length ? slow.ids[slow.ids.length - 1] : first - 1;
  const again = fastSubscriber(addr, token, { 'Last-Event-ID': String(lastSeen) });
  await within(10000, again.opened, 'resumed stream opens');
  await until(() => again.ids.length && again.ids[again.ids.length - 1] >= last, 60000, 'the resumed subscriber catches up');
  assert.equal(again.ids[0], lastSeen + 1);
  assert.equal(contiguous(again.ids), null, contiguous(again.ids));
  assert.equal(again.frames.filter((f) => f.event === 'resync').length, 0, 'nothing was trimmed: no resync');
  t.diagnostic(`published ${N} events in ${publishMs} ms; stalled subscriber cut after ${slow.ids.length}`);
  fast.req.destroy();
  again.req.destroy();
});
