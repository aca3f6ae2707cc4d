// Streamable HTTP MCP at /mcp, the streaming half: SSE answers to POSTs
// that may take long or report progress (the priming event on 2025-11-25,
// `retry:`, progress for the request's token, the response, an orderly
// end; none of the priming on older revisions), resumption of a broken SSE
// answer through GET + Last-Event-ID with the response delivered exactly
// once, JSON-RPC batches on 2025-03-26 sessions (refused on later ones),
// and the hub's events reaching an SDK client over HTTP as notifications.
// Raw requests check the framing byte by byte; every message is checked
// against the official schema of the session's revision.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { workspace, within } from './lib/harness.mjs';
import { authed, httpAgent, openSse, raw, rawCall, rawSession, startHttpHub } from './lib/http.mjs';

const FILE = 'src/shared.c';

const lockWait = (id, file, waitMs, token) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'lock_file', arguments: { file, waitMs }, ...(token === undefined ? {} : { _meta: { progressToken: token } }) },
});

const sessionHeaders = (hub, sid, version = '2025-11-25', extra = {}) =>
  authed(hub, { 'MCP-Session-Id': sid, 'MCP-Protocol-Version': version, ...extra });

const getHeaders = (hub, sid, lastEventId) => ({
  Authorization: `Bearer ${hub.token}`,
  Accept: 'text/event-stream',
  'MCP-Session-Id': sid,
  ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
});

/** The JSON-RPC messages among SSE events (those with data). */
const messages = (events) => events.filter((e) => e.data).map((e) => JSON.parse(e.data));

test('GET / lists /mcp', { timeout: 30000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const r = await raw(hub, 'GET', { Authorization: `Bearer ${hub.token}` }, undefined, '/');
  assert.equal(r.status, 200, r.body);
  assert.match(JSON.parse(r.body).endpoints['/mcp'], /Streamable HTTP/);
});

test('a waiting lock_file is answered as SSE: priming event, retry, progress, response, orderly end', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const v = ws.validator('raw-sse');
  const sid = await rawSession(hub, v);
  const holder = await ws.client({ agent: 'holder' });
  await holder.register();
  assert.equal((await holder.ok('lock_file', { file: FILE })).success, true);

  const msg = lockWait(2, FILE, 20000, 'p-1');
  v.noteOutgoing(msg);
  const s = await openSse(hub, 'POST', sessionHeaders(hub, sid), msg);
  assert.equal(s.status, 200);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  const priming = await s.next(() => true);
  assert.match(priming.id, /^r\d+-0$/, `the first event primes resumption: ${JSON.stringify(priming)}`);
  assert.equal(priming.data, '', 'the priming event has empty data');
  assert.ok(Number(priming.retry) > 0, `the priming event carries retry: ${JSON.stringify(priming)}`);
  const k = /^r(\d+)-0$/.exec(priming.id)[1];
  const progress = await s.next((e) => e.data && JSON.parse(e.data).method === 'notifications/progress');
  const p = JSON.parse(progress.data);
  v.check(p);
  assert.equal(p.params.progressToken, 'p-1');
  assert.match(p.params.message, /queued: file src\/shared\.c is held; waiting up to 20000 ms/);
  assert.equal(progress.id, `r${k}-1`);
  // The other agent's own events are not this request's: they stay off it.
  assert.equal((await holder.ok('unlock_file', { file: FILE })).success, true);
  const response = await s.next((e) => e.data && 'id' in JSON.parse(e.data));
  assert.equal(response.id, `r${k}-2`);
  const r = JSON.parse(response.data);
  v.check(r);
  assert.equal(r.id, 2);
  assert.equal(r.result.structuredContent.success, true, response.data);
  assert.equal(await within(5000, s.ended, 'the stream ends after the response'), true, 'an orderly end of the body');
  assert.deepEqual(s.events.map((e) => e.id), [`r${k}-0`, `r${k}-1`, `r${k}-2`], 'nothing else on the stream');
  assert.equal((await holder.ok('check_lock', { file: FILE })).lockedBy.startsWith('raw-'), true);

  // Quick calls stay JSON; a second SSE answer gets the next stream number.
  await rawCall(hub, sid, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'list_agents', arguments: {} } }, v);
  const w = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs: 100 } } };
  v.noteOutgoing(w);
  const s2 = await openSse(hub, 'POST', sessionHeaders(hub, sid), w);
  await within(5000, s2.ended, 'the short wait ends');
  assert.equal(s2.events[0].id, `r${Number(k) + 1}-0`);
  const [answer] = messages(s2.events);
  v.check(answer);
  assert.deepEqual(answer.result.structuredContent.events, []);
});

test('a broken SSE answer resumes by GET + Last-Event-ID: the response exactly once', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const v = ws.validator('raw-resume');
  const sid = await rawSession(hub, v);
  const holder = await ws.client({ agent: 'holder' });
  await holder.register();
  assert.equal((await holder.ok('lock_file', { file: FILE })).success, true);

  // The standalone GET stream is open throughout: resumption must not
  // touch it, nor it carry the response.
  await rawCall(hub, sid, { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'coord://locks' } }, v);
  const standalone = await openSse(hub, 'GET', getHeaders(hub, sid));
  assert.equal(standalone.status, 200);

  const msg = lockWait(7, FILE, 20000);
  v.noteOutgoing(msg);
  const s = await openSse(hub, 'POST', sessionHeaders(hub, sid), msg);
  const priming = await s.next(() => true);
  assert.match(priming.id, /^r\d+-0$/);
  s.close(); // the connection breaks before the response
  assert.equal(await s.ended, false);
  assert.equal((await holder.ok('unlock_file', { file: FILE })).success, true);
  // The request went on: the file is the raw session's now.
  for (let i = 0; i < 50; i++) {
    const c = await holder.ok('check_lock', { file: FILE });
    if (c.locked) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match((await holder.ok('check_lock', { file: FILE })).lockedBy, /^raw-/, 'leaving is not cancelling');

  const resumed = await openSse(hub, 'GET', getHeaders(hub, sid, priming.id));
  assert.equal(resumed.status, 200);
  assert.match(resumed.headers['content-type'], /^text\/event-stream/);
  assert.equal(await within(5000, resumed.ended, 'the resumed stream ends after the response'), true);
  const k = /^r(\d+)-0$/.exec(priming.id)[1];
  const got = resumed.events.filter((e) => e.data);
  assert.deepEqual(got.map((e) => e.id), [`r${k}-1`], `exactly the response: ${JSON.stringify(resumed.events)}`);
  const r = JSON.parse(got[0].data);
  v.check(r);
  assert.equal(r.id, 7);
  assert.equal(r.result.structuredContent.success, true);

  // Resuming after the response: nothing more, and 204 No Content tells
  // the client to stop reconnecting.
  const again = await raw(hub, 'GET', getHeaders(hub, sid, `r${k}-1`));
  assert.equal(again.status, 204, again.body);
  assert.equal(again.body, '');

  // Ids that name no stream or no message are refused, changing nothing.
  for (const bad of [`r${Number(k) + 5}-0`, `r${k}-9`, 'r0-1', 'x1']) {
    const b = await raw(hub, 'GET', getHeaders(hub, sid, bad));
    assert.equal(b.status, 400, `Last-Event-ID ${bad}: ${b.status} ${b.body}`);
    assert.equal(JSON.parse(b.body).error.code, -32600);
    v.check(JSON.parse(b.body));
  }

  // The standalone stream carried the session's notifications, and only
  // those: the lock changes, never the response.
  await standalone.next((e) => e.data && JSON.parse(e.data).method === 'notifications/resources/updated', 10000);
  await new Promise((r) => setTimeout(r, 200));
  standalone.close();
  for (const e of standalone.events.filter((x) => x.data)) {
    const m = JSON.parse(e.data);
    v.check(m);
    assert.equal(m.method, 'notifications/resources/updated', e.data);
    assert.match(e.id, /^\d+$/, 'the GET stream keeps its decimal ids');
  }
});

for (const version of ['2025-06-18', '2025-03-26']) {
  test(`${version}: an SSE answer has no priming event; retry and ids still come`, { timeout: 60000 }, async (t) => {
    const ws = workspace(t);
    const hub = await startHttpHub(ws);
    const v = ws.validator(`raw-${version}`);
    const sid = await rawSession(hub, v, version);
    const w = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs: 200 }, _meta: { progressToken: 9 } } };
    v.noteOutgoing(w);
    const s = await openSse(hub, 'POST', sessionHeaders(hub, sid, version), w);
    assert.equal(s.status, 200);
    assert.match(s.headers['content-type'], /^text\/event-stream/);
    assert.equal(await within(5000, s.ended, 'the answer ends'), true);
    assert.ok(Number(s.events[0].retry) > 0 && s.events[0].data === undefined, `retry first: ${JSON.stringify(s.events)}`);
    assert.ok(!s.events.some((e) => e.data === ''), `no empty-data event: ${JSON.stringify(s.events)}`);
    const withData = s.events.filter((e) => e.data);
    assert.deepEqual(withData.map((e) => e.id.replace(/^r\d+-/, '')), ['1', '2']);
    const [progress, answer] = withData.map((e) => JSON.parse(e.data));
    v.check(progress);
    v.check(answer);
    assert.equal(progress.method, 'notifications/progress');
    assert.equal(progress.params.progressToken, 9);
    assert.equal(answer.id, 2);
  });
}

test('2025-03-26 batches: an array of answers, 202 for notifications only, precise refusals; refused on 2025-11-25', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const v = ws.validator('raw-batch');
  const sid = await rawSession(hub, v, '2025-03-26');
  const H = sessionHeaders(hub, sid, '2025-03-26');

  const batch = [
    { jsonrpc: '2.0', id: 11, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 999 } },
    { jsonrpc: '2.0', id: 'twelve', method: 'tools/call', params: { name: 'lock_file', arguments: { file: 'b.c' } } },
  ];
  for (const m of batch) v.noteOutgoing(m);
  const r = await raw(hub, 'POST', H, batch);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  const answers = JSON.parse(r.body);
  assert.ok(Array.isArray(answers), r.body);
  assert.deepEqual(answers.map((a) => a.id).sort(), [11, 'twelve'].sort());
  for (const a of answers) v.check(a);
  assert.equal(answers.find((a) => a.id === 'twelve').result.structuredContent.success, true);

  // Notifications (and client responses) only: 202, no body.
  const n = await raw(hub, 'POST', H, [
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1000 } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
  ]);
  assert.equal(n.status, 202, n.body);
  assert.equal(n.body, '');

  // A batch with a long request is answered as SSE (no priming on this
  // revision); its last event is the array of answers.
  const long = [
    { jsonrpc: '2.0', id: 21, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs: 200 } } },
    { jsonrpc: '2.0', id: 22, method: 'ping' },
  ];
  for (const m of long) v.noteOutgoing(m);
  const s = await openSse(hub, 'POST', H, long);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  assert.equal(await within(5000, s.ended, 'the batch stream ends'), true);
  const last = messages(s.events).pop();
  assert.ok(Array.isArray(last), JSON.stringify(s.events));
  assert.deepEqual(last.map((a) => a.id).sort(), [21, 22]);
  for (const a of last) v.check(a);

  // A batch may cancel a request of an earlier POST: that one's SSE
  // answer ends at once without a response, the batch's requests are
  // answered.
  const poll = { jsonrpc: '2.0', id: 50, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs: 20000 } } };
  v.noteOutgoing(poll);
  const held = await openSse(hub, 'POST', H, poll);
  await held.next(() => true); // retry: the request is in the hub's hands
  const t0 = Date.now();
  const withCancel = [
    { jsonrpc: '2.0', id: 51, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 50 } },
  ];
  const wc = await raw(hub, 'POST', H, withCancel);
  assert.equal(wc.status, 200, wc.body);
  assert.deepEqual(JSON.parse(wc.body), [{ jsonrpc: '2.0', id: 51, result: {} }]);
  assert.equal(await within(5000, held.ended, 'the cancelled request is answered'), true);
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(messages(held.events), [], 'no response to a cancelled request');

  // Refusals: 400 (or 409 for an id clash) naming the member; nothing runs.
  const refusals = [
    [[], 400, /1 to 256 messages \(this one 0\)/],
    [[1], 400, /batch member 0 is not a JSON-RPC request, notification or response/],
    [[{ jsonrpc: '2.0', id: 30, method: 'ping' }, { jsonrpc: '2.0', id: 31 }], 400, /batch member 1 is not/],
    [[{ jsonrpc: '2.0', id: 32, method: 'initialize', params: {} }], 400, /batch member 0: initialize cannot be batched/],
    [[{ jsonrpc: '2.0', id: 33, method: 'tools/call', params: { name: 'lock_file', arguments: { file: 'c.c' } } }, { jsonrpc: '2.0', id: 33, method: 'ping' }], 409, /batch member 1: a request with this id is in flight or earlier in the batch/],
  ];
  for (const [body, status, why] of refusals) {
    const b = await raw(hub, 'POST', H, body);
    assert.equal(b.status, status, `${JSON.stringify(body)}: ${b.status} ${b.body}`);
    assert.match(JSON.parse(b.body).error.message, why);
    v.check(JSON.parse(b.body));
  }
  const holder = await ws.client({ agent: 'holder' });
  assert.equal((await holder.ok('check_lock', { file: 'c.c' })).locked, false, 'a refused batch ran nothing');

  // A 2025-11-25 session refuses batches, saying why.
  const sid2 = await rawSession(hub, v);
  const b = await raw(hub, 'POST', sessionHeaders(hub, sid2), [{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
  assert.equal(b.status, 400);
  assert.equal(JSON.parse(b.body).error.code, -32600);
  assert.match(JSON.parse(b.body).error.message, /only in sessions of protocol revision 2025-03-26 \(this one is 2025-11-25\)/);
});

test('SDK over HTTP hears events: log messages at its level, resource updates, a forced release as a warning, progress on its SSE answer', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const web = await httpAgent(ws, hub, 'web');
  await web.register({ agentId: 'web' });
  await web.client.setLoggingLevel('debug');
  await web.client.subscribeResource({ uri: 'coord://locks' });
  const other = await ws.client({ agent: 'other' });
  await other.register();

  // Another agent's lease: debug chatter and a resource update, both on
  // the SDK's GET stream.
  let from = web.mark();
  assert.equal((await other.ok('lock_file', { file: 'x.c' })).success, true);
  const log = await web.nextMessage(
    (m) => m.method === 'notifications/message' && m.params.data?.type === 'file:locked' && m.params.data?.data?.file === 'x.c',
    15000, 'notifications/message for the other agent\'s file:locked', from);
  assert.equal(log.params.level, 'debug');
  assert.equal(log.params.data.data.agentId, 'other');
  await web.nextMessage((m) => m.method === 'notifications/resources/updated' && m.params.uri === 'coord://locks', 15000, 'resources/updated coord://locks', from);

  // Its own lease released by force (an admin, the CLI): a warning.
  assert.equal((await web.ok('lock_file', { file: FILE })).success, true);
  from = web.mark();
  const forced = await new Promise((resolve) => {
    execFile(ws.bin, ['unlock', FILE, '--force', ...ws.dirArgs()], { env: ws.env(), timeout: 30000 }, (err, stdout, stderr) =>
      resolve({ err, stderr }));
  });
  assert.equal(forced.err, null, `coordhub unlock --force: ${forced.stderr}`);
  const warn = await web.nextMessage(
    (m) => m.method === 'notifications/message' && m.params.level === 'warning' && m.params.data?.type === 'file:unlocked',
    15000, 'a warning for the forced release', from);
  assert.equal(warn.params.data.data.file, FILE);
  assert.equal(warn.params.data.data.reason, 'forced');

  // A waiting lock_file with a progress callback: the SDK gets the
  // progress on the request's SSE answer, then the grant.
  assert.equal((await other.ok('lock_file', { file: FILE })).success, true);
  const seen = [];
  const waited = web.client.callTool({ name: 'lock_file', arguments: { file: FILE, waitMs: 20000 } }, undefined, {
    timeout: 30000,
    onprogress: (p) => seen.push(p),
  });
  for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(seen.length, 1, 'one progress notification while queued');
  assert.match(seen[0].message, /^queued: file src\/shared\.c is held/);
  assert.equal((await other.ok('unlock_file', { file: FILE })).success, true);
  const got = await within(20000, waited, 'the waiting call is granted');
  assert.equal(got.structuredContent.success, true, JSON.stringify(got));

  // The SDK cancels a waiting call (its AbortSignal): the SSE answer ends
  // without a response, the SDK's one resumption gets 204 and it stops —
  // no transport error, no response after the cancellation (the harness
  // checks both) — and the call has left the queue.
  assert.equal((await other.ok('lock_file', { file: 'y.c' })).success, true);
  const ac = new AbortController();
  const cancelled = web.client
    .callTool({ name: 'lock_file', arguments: { file: 'y.c', waitMs: 20000 } }, undefined, { signal: ac.signal })
    .then(() => 'answered', (e) => e.message);
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  assert.match(await cancelled, /abort/i);
  // The SDK rejects at once and posts notifications/cancelled on its own
  // connection: give that a moment to reach the hub before freeing the file.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await other.ok('unlock_file', { file: 'y.c' })).success, true);
  await new Promise((r) => setTimeout(r, 4000)); // past the SDK's retry delay (3 s)
  assert.equal((await other.ok('check_lock', { file: 'y.c' })).locked, false, 'the cancelled request left the queue');
});

test('2025-03-26 batches held as SSE: cancelling every request ends the answer; a one-request batch failed by its session\'s end gets an array', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const v = ws.validator('raw-batch-cancel');
  const sid = await rawSession(hub, v, '2025-03-26');
  const H = sessionHeaders(hub, sid, '2025-03-26');
  const wait = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs: 20000 } } });
  const cancel = (requestId) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });

  // Both members cancelled, one POST each: the first leaves the batch to
  // the other, the second ends the answer at once, with no message (no
  // response goes to a cancelled request, and JSON-RPC sends no empty array).
  const batch = [wait(60), wait(61)];
  for (const m of batch) v.noteOutgoing(m);
  const s = await openSse(hub, 'POST', H, batch);
  assert.match(s.headers['content-type'], /^text\/event-stream/);
  await s.next(() => true); // retry: the batch is in the hub's hands
  const t0 = Date.now();
  assert.equal((await raw(hub, 'POST', H, cancel(60))).status, 202);
  assert.equal((await raw(hub, 'POST', H, cancel(61))).status, 202);
  assert.equal(await within(5000, s.ended, 'a batch whose every request is cancelled ends'), true);
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(messages(s.events), [], 'nothing answers cancelled requests');
  // Its ids are no longer in flight: a new request may reuse them.
  assert.deepEqual((await rawCall(hub, sid, { jsonrpc: '2.0', id: 60, method: 'ping' }, v, '2025-03-26')).result, {});

  // Cancelled in one batch of notifications: the same.
  const both = [wait(62), wait(63)];
  for (const m of both) v.noteOutgoing(m);
  const s2 = await openSse(hub, 'POST', H, both);
  await s2.next(() => true);
  assert.equal((await raw(hub, 'POST', H, [cancel(62), cancel(63)])).status, 202);
  assert.equal(await within(5000, s2.ended, 'the second batch ends'), true);
  assert.deepEqual(messages(s2.events), []);

  // A one-request batch still held when its session ends is answered with
  // an array of one error: a batch's answer is an array whatever its size.
  const one = [wait(64)];
  v.noteOutgoing(one[0]);
  const s3 = await openSse(hub, 'POST', H, one);
  await s3.next(() => true);
  const del = await raw(hub, 'DELETE', H);
  assert.equal(del.status, 204, del.body);
  assert.equal(await within(5000, s3.ended, 'the held batch ends with its session'), true);
  const last = messages(s3.events).pop();
  assert.ok(Array.isArray(last), `an array: ${JSON.stringify(s3.events)}`);
  assert.equal(last.length, 1);
  assert.equal(last[0].id, 64);
  assert.equal(last[0].error.code, -32600);
  assert.match(last[0].error.message, /the MCP session ended/);
  for (const a of last) v.check(a);
});
