// API keys through the official SDK's Streamable HTTP client: a read key
// lists tools and calls read-only ones, a state-changing tool is a tool
// error naming the missing right; a write key publishes within canPublish
// only; wait_for_events and the event log notifications carry only the
// key's canSubscribe types; a revoked key's session ends and its next
// request is refused. Every message the SDK receives is checked against
// the official schema by the harness. A `key` control peer that does not
// read its answer does not hold up the hub.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { workspace, within } from './lib/harness.mjs';
import { httpAgent, startHttpHub } from './lib/http.mjs';

function keyCreate(ws, args) {
  const out = execFileSync(ws.bin, ['key', 'create', ...ws.dirArgs(), '--json', ...args], {
    env: ws.env(),
    encoding: 'utf8',
  });
  const k = JSON.parse(out);
  assert.match(k.key, /^chk_[0-9a-f]{12}_[0-9a-f]{64}$/);
  return k;
}

function textOf(r) {
  return r.content.map((c) => c.text).join('');
}

test('SDK over HTTP with API keys: read-only tools, canPublish, canSubscribe, revocation', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const reader = keyCreate(ws, ['--name', 'reader', '--state', 'read', '--subscribe', 'ci:*']);
  const writer = keyCreate(ws, ['--name', 'writer', '--state', 'write', '--publish', 'ci:*']);

  const r = await httpAgent(ws, { ...hub, token: reader.key }, 'reader');
  const locks = await r.ok('list_locked_files');
  assert.deepEqual(locks.locks, []);
  const refused = await r.tool('lock_file', { file: 'a.c' });
  assert.equal(refused.isError, true);
  assert.match(textOf(refused), /tool 'lock_file' changes state: this API key has canAccessState 'read'/);
  const refusedPublish = await r.tool('publish_event', { type: 'ci:x', data: {} });
  assert.equal(refusedPublish.isError, true);

  const w = await httpAgent(ws, { ...hub, token: writer.key }, 'writer');
  const since = await r.cursor();
  const out = await w.tool('publish_event', { type: 'deploy:x', data: {} });
  assert.equal(out.isError, true);
  assert.match(textOf(out), /'deploy:x' is outside this API key's canPublish patterns/);
  // The writer may not read events (no canSubscribe): a tool error.
  const noRead = await w.tool('wait_for_events', { timeoutMs: 0 });
  assert.equal(noRead.isError, true);
  assert.match(textOf(noRead), /no canSubscribe patterns/);

  // The reader's long poll sees ci:* only, even when other types come first.
  const admin = await httpAgent(ws, hub, 'admin');
  await admin.ok('lock_file', { file: 'b.c' });
  const poll = r.ok('wait_for_events', { since, timeoutMs: 20000 });
  assert.equal(typeof (await w.ok('publish_event', { type: 'ci:green', data: { n: 1 } })).id, 'string');
  const got = await within(20000, poll, 'the reader gets the ci event');
  assert.deepEqual(got.events.map((e) => e.type), ['ci:green'], JSON.stringify(got));

  // Revoked: the session ends; a new one is refused. The SDK reports the
  // refusals as transport errors: exactly those (401s, its GET stream
  // ended) are expected here, nothing else.
  const v0 = ws.violations.length;
  execFileSync(ws.bin, ['key', 'revoke', ...ws.dirArgs(), reader.id], { env: ws.env() });
  await assert.rejects(r.tool('list_locked_files', {}, { timeout: 10000 }), 'a revoked key can no longer call');
  await assert.rejects(httpAgent(ws, { ...hub, token: reader.key }, 'reader-again'), 'a revoked key cannot connect');
  const seen = ws.violations.splice(v0);
  assert.ok(seen.some((v) => /"code":"unauthorized"/.test(v)), `no 401 seen: ${seen.join('\n')}`);
  for (const v of seen) assert.match(v, /"code":"unauthorized"|SSE stream disconnected/, v);
  // The writer's session is untouched.
  assert.equal(typeof (await w.ok('publish_event', { type: 'ci:after', data: {} })).id, 'string');
});

// A `key list` peer that never reads: its answer (over 300 KB, more than
// a socket takes at once) must not hold the hub's loop, and the hub drops
// the peer after its deadline; a peer that reads gets the whole answer.
test('key control answers never block the hub', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  mkdirSync(ws.stateDir, { recursive: true, mode: 0o700 });
  const keys = [];
  for (let i = 0; i < 1000; i++) {
    keys.push({
      id: randomBytes(6).toString('hex'),
      name: `k${i}-`.padEnd(128, 'x'),
      createdAt: '2026-01-01T00:00:00.000Z',
      sha256: createHash('sha256').update(randomBytes(16)).digest('hex'),
      canPublish: [],
      canSubscribe: [],
      canAccessState: 'read',
      requireSignature: false,
      rateLimit: { perSecond: 50, burst: 100 },
      revokedAt: null,
    });
  }
  writeFileSync(path.join(ws.stateDir, 'keys.json'), JSON.stringify({ version: 1, keys }), { mode: 0o600 });
  const hub = await startHttpHub(ws);

  const ask = () => {
    const s = net.createConnection(ws.socketPath);
    s.pause();
    s.write(JSON.stringify({ coordhub: 'key', op: 'list', token: hub.token }) + '\n');
    const closed = new Promise((resolve) => s.on('close', resolve));
    s.on('error', () => {});
    return { s, closed };
  };
  const stalled = [ask(), ask(), ask()];
  const reader = ask();
  // Three stalled peers would hold a blocking hub for seconds each.
  const res = await within(
    3000,
    fetch(`http://${hub.addr}/status`, { headers: { Authorization: `Bearer ${hub.token}` } }),
    'the hub answers while control peers do not read',
  );
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  // A peer that reads (within the deadline) gets the whole answer.
  reader.s.setEncoding('utf8');
  let text = '';
  reader.s.on('data', (d) => {
    text += d;
  });
  reader.s.resume();
  await within(5000, reader.closed, 'the reading peer gets its answer and the hub closes');
  const answer = JSON.parse(text.trim());
  assert.equal(answer.ok, true);
  assert.equal(answer.result.keys.length, 1000);
  // The others are dropped once their time is up: the hub says so, and
  // what they read afterwards is a cut-off answer, then the end.
  const logged = async () => {
    for (;;) {
      const log = readFileSync(path.join(ws.stateDir, 'hub.log'), 'utf8');
      if ((log.match(/the peer did not take the answer/g) || []).length === stalled.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await within(10000, logged(), 'the hub drops the stalled peers');
  for (const p of stalled) {
    p.text = '';
    p.s.setEncoding('utf8');
    p.s.on('data', (d) => {
      p.text += d;
    });
    p.s.resume();
  }
  await within(10000, Promise.all(stalled.map((p) => p.closed)), 'stalled peers see the end');
  for (const p of stalled) assert.ok(!p.text.includes('\n'), 'a dropped peer has no complete answer');
});
