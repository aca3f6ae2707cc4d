// Streamable HTTP MCP at /mcp against the real binary: the official SDK's
// StreamableHTTPClientTransport initializes, lists tools and locks; an HTTP
// agent and a stdio agent (`coordhub mcp`) contend for one file on one hub;
// the GET stream carries resource notifications and resumes with
// Last-Event-ID; DELETE ends a session (404 afterwards); idle sessions end;
// the transport's refusals (Origin, Host, MCP-Protocol-Version, missing
// session id, Accept, credential). Every message the SDK receives is
// checked against the official schema by the harness.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { workspace, within } from './lib/harness.mjs';
import { ACCEPT, INIT, authed, httpAgent, parseSse, raw, rawCall, rawSession, readStream, startHttpHub } from './lib/http.mjs';

const FILE = 'src/shared.c';

test('SDK over HTTP: initialize, tools/list, lock/unlock; HTTP and stdio agents contend on one hub', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const web = await httpAgent(ws, hub, 'web');
  assert.ok(web.transport.inner.sessionId, 'the SDK holds an MCP-Session-Id');
  const tools = await web.listAllTools();
  for (const name of ['register_agent', 'lock_file', 'unlock_file', 'wait_for_events']) {
    assert.ok(tools.some((x) => x.name === name), `tools/list over HTTP has ${name}`);
  }
  assert.equal((await web.register({ agentId: 'web' })).agentId, 'web');

  const cli = await ws.client({ agent: 'cli' });
  assert.equal((await cli.register()).agentId, 'cli');

  // Both at once: exactly one wins, the other is told who holds the file.
  const [rw, rc] = await Promise.all([web.ok('lock_file', { file: FILE }), cli.ok('lock_file', { file: FILE })]);
  const entries = [{ a: web, r: rw }, { a: cli, r: rc }];
  const winners = entries.filter((e) => e.r.success === true);
  const losers = entries.filter((e) => e.r.success !== true);
  assert.equal(winners.length, 1, `exactly one winner: web=${JSON.stringify(rw)} cli=${JSON.stringify(rc)}`);
  assert.equal(losers[0].r.lockedBy, winners[0].a.agentId, `the loser learns the holder: ${JSON.stringify(losers[0].r)}`);

  // A held request: the loser waits for the file over its transport (the
  // HTTP one holds its POST open), the winner releases it.
  const W = winners[0].a;
  const L = losers[0].a;
  const waited = L.ok('lock_file', { file: FILE, waitMs: 20000 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await W.ok('unlock_file', { file: FILE })).success, true);
  const got = await within(20000, waited, 'the waiting agent gets the file');
  assert.equal(got.success, true, JSON.stringify(got));
  assert.equal((await L.ok('check_lock', { file: FILE })).lockedBy, L.agentId);
  assert.equal((await L.ok('unlock_file', { file: FILE })).success, true);

  // A long poll over HTTP does not block the hub: the stdio agent's calls
  // are answered while the HTTP agent's wait_for_events is held, and the
  // wait ends with the event the stdio agent caused.
  const since = await web.cursor();
  const poll = web.ok('wait_for_events', { since, timeoutMs: 20000, types: ['file:locked'] });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  assert.equal((await cli.ok('lock_file', { file: 'other.c' })).success, true);
  assert.ok(Date.now() - t0 < 2000, 'the stdio agent is served while the HTTP poll is held');
  const ev = await within(20000, poll, 'the held wait_for_events answers');
  assert.ok(ev.events.some((e) => e.type === 'file:locked' && e.data.file === 'other.c'), JSON.stringify(ev));
});

test('GET /mcp carries notifications; buffered messages replay, Last-Event-ID resumes exactly', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const v = ws.validator('raw-stream');
  const sid = await rawSession(hub, v);
  await rawCall(hub, sid, { jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'coord://locks' } }, v);
  const cli = await ws.client({ agent: 'cli' });
  await cli.register();
  // No stream open: three lock changes are buffered for the session.
  for (const f of ['a.c', 'b.c', 'c.c']) assert.equal((await cli.ok('lock_file', { file: f })).success, true);
  const first = await readStream(hub, sid, { count: 3 });
  assert.equal(first.status, 200);
  assert.equal(first.events.length, 3, JSON.stringify(first.events));
  for (const e of first.events) {
    v.check(e.msg);
    assert.equal(e.msg.method, 'notifications/resources/updated');
    assert.equal(e.msg.params.uri, 'coord://locks');
  }
  const ids = first.events.map((e) => e.id);
  assert.deepEqual(ids, [ids[0], ids[0] + 1, ids[0] + 2], 'event ids count up');
  // Resume after the first: exactly the two after it, again.
  const again = await readStream(hub, sid, { lastEventId: ids[0], count: 2, ms: 3000 });
  assert.deepEqual(again.events.map((e) => e.id), ids.slice(1));
  // A live stream gets a new change as it happens.
  const live = readStream(hub, sid, { lastEventId: ids[2], count: 1 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await cli.ok('unlock_file', { file: 'a.c' })).success, true);
  const l = await live;
  assert.equal(l.events.length, 1);
  assert.equal(l.events[0].id, ids[2] + 1);
  assert.equal(l.events[0].msg.params.uri, 'coord://locks');
});

test('DELETE ends an HTTP session: its agent is detached, the id answers 404', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const web = await httpAgent(ws, hub, 'web');
  await web.register({ agentId: 'web' });
  assert.equal((await web.ok('lock_file', { file: FILE })).success, true);
  const sid = web.transport.inner.sessionId;
  const cli = await ws.client({ agent: 'cli' });
  await cli.register();
  const before = (await cli.ok('list_agents', {})).agents.find((a) => a.agentId === 'web');
  assert.equal(before.connected, true, JSON.stringify(before));
  await web.close(); // the SDK's GET stream goes away first
  const d = await raw(hub, 'DELETE', { Authorization: `Bearer ${hub.token}`, 'MCP-Session-Id': sid });
  assert.ok(d.status >= 200 && d.status < 300, `DELETE answered ${d.status}`);
  const after = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 5, method: 'ping' });
  assert.equal(after.status, 404, after.body);
  const again = await raw(hub, 'DELETE', { Authorization: `Bearer ${hub.token}`, 'MCP-Session-Id': sid });
  assert.equal(again.status, 404);
  // The agent left like a closed socket session.
  const agents = await cli.ok('list_agents', {});
  const w = agents.agents.find((a) => a.agentId === 'web');
  assert.ok(w, JSON.stringify(agents));
  assert.equal(w.connected, false, `the HTTP agent is detached after DELETE: ${JSON.stringify(w)}`);
});

test('held requests: a cancelled one is answered; one whose client left still runs, then the session idles out', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  // Sessions idle out after 400 ms, but not while a request is held.
  const hub = await startHttpHub(ws, { COORDHUB_MCP_IDLE_MS: '400' });
  const [host, port] = hub.addr.split(':');
  const wait = (id, timeoutMs) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'wait_for_events', arguments: { timeoutMs } } });

  // A cancelled long poll: its SSE answer ends right away, without a
  // response (MCP sends none to a cancelled request).
  const sid = await rawSession(hub);
  const t0 = Date.now();
  const held = raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), wait(20, 20000));
  await new Promise((r) => setTimeout(r, 300));
  const c = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 20 } });
  assert.equal(c.status, 202);
  const r = await within(5000, held, 'the cancelled request is answered');
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/event-stream/);
  assert.deepEqual(parseSse(r.body).filter((e) => e.data), [], `only the priming event: ${r.body}`);
  assert.match(parseSse(r.body)[0].id, /^r\d+-0$/);

  // A held long poll keeps its session alive past the idle time...
  const held2 = raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), wait(21, 1500));
  await new Promise((r) => setTimeout(r, 900));
  const alive = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 22, method: 'ping' });
  assert.equal(alive.status, 200, 'a session with a held request does not idle out');
  const r2 = await held2;
  const answer = JSON.parse(parseSse(r2.body).filter((e) => e.data).pop().data);
  assert.equal(answer.result.structuredContent.events.length, 0);

  // One whose client left goes on (leaving is not cancelling: its answer
  // is kept for a resumption), so it holds the session past the idle time;
  // once answered it no longer does, and the session idles out.
  const req = http.request({ host, port, method: 'POST', path: '/mcp', headers: authed(hub, { 'MCP-Session-Id': sid }) });
  req.on('error', () => {});
  req.end(JSON.stringify(wait(23, 1500)));
  await new Promise((r) => setTimeout(r, 300));
  req.destroy();
  await new Promise((r) => setTimeout(r, 700));
  const still = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 24, method: 'ping' });
  assert.equal(still.status, 200, `the abandoned request still runs and holds the session: ${still.status} ${still.body}`);
  await new Promise((r) => setTimeout(r, 2500));
  const gone = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 25, method: 'ping' });
  assert.equal(gone.status, 404, `answered, the request no longer holds the session: ${gone.status} ${gone.body}`);

  // A request still held when the hub stops is answered (503), not leaked:
  // the sanitizer build's leak report at cleanup would show it.
  const sid2 = await rawSession(hub);
  const last = raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid2 }), wait(30, 30000)).catch((e) => ({ error: e }));
  const stream = readStream(hub, sid2, { count: 1000, ms: 3000 }).catch((e) => ({ error: e }));
  await new Promise((r) => setTimeout(r, 300)); // both are in the hub's hands
  t.after(() => Promise.allSettled([last, stream]));
});

test('an HTTP session is an agent, never the CLI admin, whatever its clientInfo says', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const cli = await ws.client({ agent: 'holder' });
  await cli.register();
  assert.equal((await cli.ok('lock_file', { file: FILE })).success, true);
  const init = { ...INIT, params: { ...INIT.params, clientInfo: { name: 'coordhub-cli', version: '1' } } };
  const r = await raw(hub, 'POST', authed(hub), init);
  assert.equal(r.status, 200, r.body);
  const sid = r.headers['mcp-session-id'];
  assert.equal((await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', method: 'notifications/initialized' })).status, 202);
  const force = await rawCall(hub, sid, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'unlock_file', arguments: { file: FILE, force: true } } });
  assert.equal(force.result.isError, true, JSON.stringify(force));
  assert.match(force.result.content[0].text, /only an admin may force/);
  assert.equal((await cli.ok('check_lock', { file: FILE })).lockedBy, 'holder', 'the lease is intact');
});

test('an idle HTTP session ends after its timeout', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws, { COORDHUB_MCP_IDLE_MS: '300' });
  const sid = await rawSession(hub);
  const ok = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 2, method: 'ping' });
  assert.equal(ok.status, 200, ok.body);
  await new Promise((r) => setTimeout(r, 1200));
  const gone = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), { jsonrpc: '2.0', id: 3, method: 'ping' });
  assert.equal(gone.status, 404, gone.body);
});

test('/mcp refusals: Origin, Host, MCP-Protocol-Version, session id, Accept, credential', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const sid = await rawSession(hub);
  const ping = { jsonrpc: '2.0', id: 9, method: 'ping' };
  const port = hub.addr.split(':')[1];
  const cases = [
    ['foreign Origin', authed(hub, { 'MCP-Session-Id': sid, Origin: 'http://evil.example' }), 403],
    ['foreign Origin on initialize', authed(hub, { Origin: 'https://attacker.example:7420' }), 403, INIT],
    ['loopback Origin', authed(hub, { 'MCP-Session-Id': sid, Origin: `http://localhost:${port}` }), 200],
    ['rebinding Host', authed(hub, { 'MCP-Session-Id': sid, Host: `evil.example:${port}` }), 403],
    ['Host with another port', authed(hub, { 'MCP-Session-Id': sid, Host: `127.0.0.1:${Number(port) + 1}` }), 403],
    ['localhost Host', authed(hub, { 'MCP-Session-Id': sid, Host: `localhost:${port}` }), 200],
    ['unsupported MCP-Protocol-Version', authed(hub, { 'MCP-Session-Id': sid, 'MCP-Protocol-Version': '1999-01-01' }), 400],
    ['supported MCP-Protocol-Version', authed(hub, { 'MCP-Session-Id': sid, 'MCP-Protocol-Version': '2025-06-18' }), 200],
    ['missing session id', authed(hub), 400],
    ['unknown session id', authed(hub, { 'MCP-Session-Id': 'f'.repeat(64) }), 404],
    ['Accept without text/event-stream', authed(hub, { 'MCP-Session-Id': sid, Accept: 'application/json' }), 406],
    ['no credential', { Accept: ACCEPT, 'MCP-Session-Id': sid }, 401],
    ['wrong credential', { Authorization: 'Bearer nope', Accept: ACCEPT, 'MCP-Session-Id': sid }, 401],
  ];
  for (const [what, headers, status, body = ping] of cases) {
    const r = await raw(hub, 'POST', headers, body);
    assert.equal(r.status, status, `${what}: ${r.status} ${r.body}`);
  }
  const g = await raw(hub, 'GET', { Authorization: `Bearer ${hub.token}`, Accept: 'application/json', 'MCP-Session-Id': sid });
  assert.equal(g.status, 406, 'GET needs Accept: text/event-stream');
  const bad = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), '{"jsonrpc":');
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body).error.code, -32700);
  const batch = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), [ping]);
  assert.equal(batch.status, 400);
  assert.match(JSON.parse(batch.body).error.message, /only in sessions of protocol revision 2025-03-26 \(this one is 2025-11-25\)/);
  const put = await raw(hub, 'PUT', authed(hub, { 'MCP-Session-Id': sid }), ping);
  assert.equal(put.status, 405);
  // The session still works after all that.
  const ok = await raw(hub, 'POST', authed(hub, { 'MCP-Session-Id': sid }), ping);
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.body), { jsonrpc: '2.0', id: 9, result: {} });
});
