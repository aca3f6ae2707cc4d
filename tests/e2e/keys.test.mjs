// API keys through the official SDK's Streamable HTTP client: a read key
// lists tools and calls read-only ones, a state-changing tool is a tool
// error naming the missing right; a write key publishes within canPublish
// only; wait_for_events and the event log notifications carry only the
// key's canSubscribe types; a revoked key's session ends and its next
// request is refused. Every message the SDK receives is checked against
// the official schema by the harness.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
