// Coordination behaviour seen by real MCP clients (the official SDK) through
// `coordhub mcp`: lease contention and fencing tokens, queued lock waits,
// atomic task claims, a 20-process start-up race, events, resource
// subscriptions and survival of a hub crash. Every message the hub sends is
// checked against the official MCP schema by the harness.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspace, clients, track, within, alive, waitGone } from './lib/harness.mjs';
import { RawConn } from './lib/raw.mjs';

const FILE = 'src/main.c';

function isToken(x) {
  return Number.isSafeInteger(x) && x > 0;
}

function splitOutcomes(entries) {
  const winners = entries.filter((e) => e.r.success === true);
  const losers = entries.filter((e) => e.r.success !== true);
  return { winners, losers };
}

function show(x) {
  return JSON.stringify(x);
}

test('two agents contend for one file: one wins, the loser learns the holder, tokens fence', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  assert.equal((await alice.register()).agentId, 'alice', '--agent alice names the agent');
  assert.equal((await bob.register()).agentId, 'bob', '--agent bob names the agent');

  const [ra, rb] = await Promise.all([
    alice.ok('lock_file', { file: FILE, reason: 'editing' }),
    bob.ok('lock_file', { file: FILE, reason: 'editing' }),
  ]);
  const { winners, losers } = splitOutcomes([{ a: alice, r: ra }, { a: bob, r: rb }]);
  assert.equal(winners.length, 1, `exactly one winner: alice=${show(ra)} bob=${show(rb)}`);
  assert.equal(losers.length, 1);
  const W = winners[0];
  const L = losers[0];
  assert.equal(W.r.locked, true, show(W.r));
  assert.equal(W.r.file, FILE);
  assert.ok(isToken(W.r.token), `winner gets a fencing token: ${show(W.r)}`);
  assert.equal(L.r.success, false, show(L.r));
  assert.equal(L.r.lockedBy, W.a.agentId, `refusal names the holder: ${show(L.r)}`);

  // The holder's token is valid.
  const c1 = await L.a.ok('check_lock', { file: FILE, token: W.r.token });
  assert.equal(c1.locked, true, show(c1));
  assert.equal(c1.lockedBy, W.a.agentId, show(c1));
  assert.equal(c1.token, W.r.token, show(c1));
  assert.equal(c1.valid, true, show(c1));

  // A non-holder cannot unlock (no force): a domain refusal, lease intact.
  const bad = await L.a.ok('unlock_file', { file: FILE });
  assert.equal(bad.success, false, `non-holder unlock refused: ${show(bad)}`);
  assert.equal(bad.unlocked, false, show(bad));
  assert.equal((await W.a.ok('check_lock', { file: FILE })).lockedBy, W.a.agentId);

  const u = await W.a.ok('unlock_file', { file: FILE });
  assert.equal(u.success, true, show(u));
  assert.equal(u.unlocked, true, show(u));
  assert.equal(u.file, FILE);

  const r2 = await L.a.ok('lock_file', { file: FILE, reason: 'my turn' });
  assert.equal(r2.success, true, show(r2));
  assert.equal(r2.locked, true, show(r2));
  assert.ok(isToken(r2.token) && r2.token > W.r.token, `new token ${r2.token} > old ${W.r.token}`);

  const stale = await W.a.ok('check_lock', { file: FILE, token: W.r.token });
  assert.equal(stale.locked, true, show(stale));
  assert.equal(stale.lockedBy, L.a.agentId, show(stale));
  assert.equal(stale.valid, false, `old token is stale: ${show(stale)}`);
  const fresh = await W.a.ok('check_lock', { file: FILE, token: r2.token });
  assert.equal(fresh.valid, true, show(fresh));
});

test('waitMs: a queued request is granted the moment the holder unlocks, FIFO, or answered busy', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob, carol] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }, { agent: 'carol' }]);
  for (const a of [alice, bob, carol]) await a.register();

  const held = await alice.ok('lock_file', { file: FILE });
  assert.equal(held.success, true, show(held));

  // A bounded wait that runs out is answered busy, naming the holder.
  const t0 = Date.now();
  const busy = await carol.ok('lock_file', { file: FILE, waitMs: 300 });
  assert.equal(busy.success, false, show(busy));
  assert.equal(busy.lockedBy, 'alice', show(busy));
  assert.ok(Date.now() - t0 >= 250, `busy answer came after the wait (${Date.now() - t0} ms), not at once`);

  // bob queues first, then carol; each ping proves the hub has read the
  // lock request sent before it on the same session.
  const pb = track(bob.ok('lock_file', { file: FILE, waitMs: 30000 }));
  await bob.client.ping();
  const pc = track(carol.ok('lock_file', { file: FILE, waitMs: 30000 }));
  await carol.client.ping();
  assert.equal(pb.settled, false, `bob must wait while alice holds: ${show(pb.value)}`);
  assert.equal(pc.settled, false, `carol must wait while alice holds: ${show(pc.value)}`);

  const t1 = Date.now();
  const u = await alice.ok('unlock_file', { file: FILE });
  assert.equal(u.success, true, show(u));
  const gb = await within(10000, pb.promise, 'bob granted after alice unlocked');
  const latency = Date.now() - t1;
  assert.equal(gb.success, true, show(gb));
  assert.equal(gb.locked, true, show(gb));
  assert.ok(isToken(gb.token) && gb.token > held.token, `bob token ${gb.token} > alice token ${held.token}`);
  assert.ok(latency < 5000, `grant came ${latency} ms after unlock (waitMs was 30000)`);
  assert.equal(pc.settled, false, 'carol still waits: FIFO, bob was first');
  assert.equal((await alice.ok('check_lock', { file: FILE })).lockedBy, 'bob');

  await bob.ok('unlock_file', { file: FILE });
  const gc = await within(10000, pc.promise, 'carol granted after bob unlocked');
  assert.equal(gc.success, true, show(gc));
  assert.ok(gc.token > gb.token, `carol token ${gc.token} > bob token ${gb.token}`);
  assert.equal((await alice.ok('check_lock', { file: FILE })).lockedBy, 'carol');
});

test('overlapping task claims are all-or-nothing', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob, planner] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }, { agent: 'planner' }]);
  for (const a of [alice, bob, planner]) await a.register();

  // Several rounds, each with fresh tasks and files, to give a racy
  // implementation more than one chance to show itself.
  for (let round = 0; round < 5; round++) {
    const a = `r${round}/a.c`;
    const b = `r${round}/b.c`;
    const c = `r${round}/c.c`;
    const t1 = `T1-${round}`;
    const t2 = `T2-${round}`;
    const c1 = await planner.ok('create_task', { taskId: t1, title: `task one ${round}`, files: [a, b] });
    assert.equal(c1.task.taskId, t1, show(c1));
    assert.equal(c1.task.status, 'open', show(c1));
    assert.deepEqual(c1.task.files, [a, b], show(c1));
    await planner.ok('create_task', { taskId: t2, title: `task two ${round}`, files: [b, c] });

    const [ra, rb] = await Promise.all([alice.ok('claim_task', { taskId: t1 }), bob.ok('claim_task', { taskId: t2 })]);
    const { winners, losers } = splitOutcomes([
      { a: alice, r: ra, task: t1, files: [a, b], own: a },
      { a: bob, r: rb, task: t2, files: [b, c], own: c },
    ]);
    assert.equal(winners.length, 1, `round ${round}: exactly one claim wins: alice=${show(ra)} bob=${show(rb)}`);
    const W = winners[0];
    const L = losers[0];

    assert.equal(W.r.task.status, 'claimed', show(W.r));
    assert.equal(W.r.task.claimedBy, W.a.agentId, show(W.r));
    assert.deepEqual(W.r.locks.map((l) => l.file).sort(), [...W.files].sort(), `claim leases every file: ${show(W.r)}`);
    for (const l of W.r.locks) assert.ok(isToken(l.token), `token per file: ${show(W.r)}`);

    assert.equal(L.r.success, false, show(L.r));
    assert.ok(Array.isArray(L.r.conflicts) && L.r.conflicts.length > 0, `refusal lists conflicts: ${show(L.r)}`);
    assert.ok(show(L.r.conflicts).includes(b), `conflicts name the shared file ${b}: ${show(L.r.conflicts)}`);

    // The loser holds nothing: not even the file only its task had.
    const mine = await planner.ok('list_locked_files', { agentId: L.a.agentId });
    assert.deepEqual(mine.locks, [], `loser holds no lease: ${show(mine)}`);
    const own = await planner.ok('check_lock', { file: L.own });
    assert.equal(own.locked, false, `${L.own} stays free: ${show(own)}`);
    const all = await planner.ok('list_locked_files', {});
    const held = all.locks.filter((l) => l.file.startsWith(`r${round}/`));
    assert.deepEqual(held.map((l) => l.file).sort(), [...W.files].sort(), show(all));
    for (const l of held) assert.equal(l.agentId, W.a.agentId, show(l));
    const tasks = await planner.ok('list_tasks', {});
    const lt = tasks.tasks.find((x) => x.taskId === L.task);
    assert.equal(lt.status, 'open', `losing task stays open: ${show(lt)}`);

    // Completing the winner's task frees its files; the loser then claims.
    const done = await W.a.ok('complete_task', { taskId: W.task, result: 'ok' });
    assert.equal(done.success, true, show(done));
    assert.equal(done.task.status, 'completed', show(done));
    assert.deepEqual([...done.unlockedFiles].sort(), [...W.files].sort(), show(done));
    const again = await L.a.ok('claim_task', { taskId: L.task });
    assert.equal(again.success, true, show(again));
    const maxOld = Math.max(...W.r.locks.map((l) => l.token));
    const shared = again.locks.find((l) => l.file === b);
    assert.ok(shared && shared.token > maxOld, `${b} re-leased with a larger token: ${show(again)}`);
    await L.a.ok('complete_task', { taskId: L.task });
  }
});

test('20 bridges started at once race for one file: one hub, one winner, 19 refusals naming it', { timeout: 120000 }, async (t) => {
  const ws = workspace(t);
  const names = Array.from({ length: 20 }, (_, i) => `racer-${String(i).padStart(2, '0')}`);
  // No hub runs yet: every bridge may try to start one.
  const agents = await clients(ws, names.map((agent) => ({ agent, timeout: 60000 })));
  const results = await Promise.all(agents.map((a) => a.ok('lock_file', { file: FILE, reason: 'race' })));
  const entries = agents.map((a, i) => ({ a, r: results[i] }));
  const { winners, losers } = splitOutcomes(entries);
  assert.equal(winners.length, 1, `exactly one winner: ${show(results)}`);
  const winner = winners[0].a.label; // auto-registered under its --agent id
  assert.equal(losers.length, 19);
  for (const l of losers) {
    assert.equal(l.r.success, false, show(l.r));
    assert.equal(l.r.lockedBy, winner, `${l.a.label}'s refusal names ${winner}: ${show(l.r)}`);
  }
  const c = await agents[0].ok('check_lock', { file: FILE });
  assert.equal(c.lockedBy, winner, show(c));
  assert.equal(c.token, winners[0].r.token, show(c));

  const lockPid = ws.hubLockPid();
  assert.ok(lockPid && alive(lockPid), `hub.lock names a live pid: ${lockPid}`);
  assert.deepEqual(ws.hubPids(), [lockPid], 'exactly one hub process serves the workspace');
});

test('wait_for_events sees file:locked then file:unlocked with increasing ids', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  await alice.register();
  await bob.register();

  const now = await alice.ok('wait_for_events', { timeoutMs: 0 });
  assert.deepEqual(now.events, [], `no since = from now: ${show(now)}`);
  const cursor = now.lastId;
  assert.ok(/^\d+$/.test(String(cursor)), `lastId is a sequence number: ${show(now)}`);

  // A long poll that is already waiting wakes up on the event.
  const w1 = track(alice.ok('wait_for_events', { since: cursor, types: ['file:locked', 'file:unlocked'], timeoutMs: 30000 }));
  await alice.client.ping();
  assert.equal(w1.settled, false, `long poll returned with nothing to report: ${show(w1.value)}`);
  const lk = await bob.ok('lock_file', { file: FILE, reason: 'events' });
  assert.equal(lk.success, true, show(lk));
  const r1 = await within(10000, w1.promise, 'wait_for_events woken by file:locked');
  assert.ok(r1.events.length >= 1, show(r1));
  const e1 = r1.events[0];
  assert.equal(e1.type, 'file:locked', show(e1));
  assert.equal(e1.data.file, FILE, show(e1));
  assert.equal(e1.data.agentId, 'bob', show(e1));
  assert.equal(e1.data.token, lk.token, `event carries the token: ${show(e1)}`);
  assert.equal(e1.id, String(lk.token), `the token is the seq of the granting event: ${show(e1)}`);
  assert.ok(BigInt(e1.id) > BigInt(cursor), show(e1));
  assert.equal(String(r1.lastId), r1.events[r1.events.length - 1].id, show(r1));
  for (const k of ['id', 'type', 'source', 'timestamp', 'data']) assert.ok(k in e1, `event has ${k}: ${show(e1)}`);

  const un = await bob.ok('unlock_file', { file: FILE });
  assert.equal(un.success, true, show(un));
  const r2 = await alice.ok('wait_for_events', { since: r1.lastId, types: ['file:*'], timeoutMs: 10000 });
  assert.equal(r2.events[0].type, 'file:unlocked', show(r2));
  assert.equal(r2.events[0].data.file, FILE, show(r2));
  assert.ok(BigInt(r2.events[0].id) > BigInt(e1.id), show(r2));

  // The whole log since the cursor: ids strictly increase, lock before unlock.
  const all = await alice.ok('wait_for_events', { since: cursor, timeoutMs: 0 });
  const ids = all.events.map((e) => BigInt(e.id));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `ids increase: ${show(all.events.map((e) => e.id))}`);
  const types = all.events.map((e) => e.type).filter((x) => x.startsWith('file:'));
  assert.deepEqual(types, ['file:locked', 'file:unlocked'], show(all));
  // The types filter keeps only what was asked for.
  const only = await alice.ok('wait_for_events', { since: cursor, types: ['file:unlocked'], timeoutMs: 0 });
  assert.deepEqual(only.events.map((e) => e.type), ['file:unlocked'], show(only));
});

test('resources: a subscriber to coord://locks is notified when a file is locked', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  await alice.register();
  await bob.register();
  const caps = alice.client.getServerCapabilities();
  assert.equal(caps.resources && caps.resources.subscribe, true, `resources.subscribe capability: ${show(caps)}`);

  const listed = await alice.client.listResources();
  for (const uri of ['coord://status', 'coord://agents', 'coord://locks', 'coord://tasks', 'coord://health', 'coord://events/recent']) {
    assert.ok(listed.resources.some((r) => r.uri === uri), `resources/list has ${uri}: ${show(listed)}`);
  }

  await alice.client.subscribeResource({ uri: 'coord://locks' });
  const from = alice.mark();
  const updated = alice.nextMessage(
    (m) => m.method === 'notifications/resources/updated' && m.params && m.params.uri === 'coord://locks',
    10000, 'notifications/resources/updated for coord://locks', from);
  const lk = await bob.ok('lock_file', { file: FILE });
  assert.equal(lk.success, true, show(lk));
  await updated;

  const rr = await alice.client.readResource({ uri: 'coord://locks' });
  assert.equal(rr.contents[0].uri, 'coord://locks', show(rr));
  const text = rr.contents[0].text;
  assert.equal(typeof text, 'string', show(rr));
  JSON.parse(text);
  assert.ok(text.includes(FILE) && text.includes('bob'), `coord://locks shows the lease: ${text}`);
  await alice.client.unsubscribeResource({ uri: 'coord://locks' });
});

test('a lease survives a SIGKILL of the hub, with the same token', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const alice = await ws.client({ agent: 'alice' });
  await alice.register();
  const lk = await alice.ok('lock_file', { file: FILE, reason: 'survive' });
  assert.equal(lk.success, true, show(lk));

  const pid = ws.hubLockPid();
  assert.ok(pid && alive(pid), `hub.lock names a live hub: ${pid}`);
  assert.deepEqual(ws.hubPids(), [pid]);
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitGone(pid, 10000), 'hub gone after SIGKILL');

  // A new client starts a new hub, which recovers the lease from the store.
  const carol = await ws.client({ agent: 'carol', timeout: 30000 });
  const c1 = await carol.ok('check_lock', { file: FILE, token: lk.token });
  assert.equal(c1.locked, true, `lease survived: ${show(c1)}`);
  assert.equal(c1.lockedBy, 'alice', show(c1));
  assert.equal(c1.token, lk.token, show(c1));
  assert.equal(c1.valid, true, show(c1));

  // The first bridge re-attached its session: alice still works and still
  // holds the lease.
  const c2 = await alice.ok('check_lock', { file: FILE }, { timeout: 30000 });
  assert.equal(c2.lockedBy, 'alice', show(c2));
  assert.equal(c2.token, lk.token, show(c2));
  const u = await alice.ok('unlock_file', { file: FILE });
  assert.equal(u.success, true, `the holder can still unlock after the restart: ${show(u)}`);

  const pid2 = ws.hubLockPid();
  assert.ok(pid2 && pid2 !== pid && alive(pid2), `a new hub holds hub.lock: ${pid2}`);
  assert.deepEqual(ws.hubPids(), [pid2], 'exactly one hub after the restart');
});

test('closing stdin ends the session: the bridge exits 0 and the agent is not re-attached', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const observer = await ws.client({ agent: 'observer' });
  await observer.register();
  const c = RawConn.bridge(ws, { label: 'alice-raw', args: ['--agent', 'alice'] });
  await c.initialize();
  const reg = await c.callTool('register_agent', {});
  assert.equal(reg.result.structuredContent.agentId, 'alice', show(reg));
  const cursor = await observer.cursor();
  const hub = ws.hubLockPid();

  c.child.stdin.end(); // the IDE goes away
  const [code, signal] = await within(10000, new Promise((r) => c.child.once('exit', (...a) => r(a))), 'bridge exit after stdin EOF');
  assert.equal(signal, null);
  assert.equal(code, 0, `bridge exit status after stdin EOF; its stderr: ${ws.log('alice-raw')}`);
  const ev = await observer.ok('wait_for_events', { since: cursor, types: ['agent:registered'], timeoutMs: 0 });
  assert.deepEqual(ev.events.map((e) => e.data), [], 'no session re-attached after the client left');
  assert.equal(ws.hubLockPid(), hub, 'the hub keeps running');
  assert.ok(alive(hub));
});

async function twoAgents(t) {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  await alice.register();
  await bob.register();
  return { ws, alice, bob };
}

test('shared leases coexist, exclusive conflicts with them; re-lock by the holder keeps the token', { timeout: 60000 }, async (t) => {
  const { alice, bob } = await twoAgents(t);
  const s1 = await alice.ok('lock_file', { file: 'docs/a.md', mode: 'shared' });
  const s2 = await bob.ok('lock_file', { file: 'docs/a.md', mode: 'shared' });
  assert.equal(s1.success, true, show(s1));
  assert.equal(s2.success, true, `shared leases coexist: ${show(s2)}`);
  const xs = await bob.ok('lock_file', { file: 'docs/a.md' });
  // bob holds a shared lease himself, but alice's shared lease still
  // conflicts with his exclusive request.
  assert.equal(xs.success, false, `exclusive conflicts with another's shared lease: ${show(xs)}`);
  const ex = await bob.ok('lock_file', { file: 'docs/b.md' });
  assert.equal(ex.success, true, show(ex));
  const sx = await alice.ok('lock_file', { file: 'docs/b.md', mode: 'shared' });
  assert.equal(sx.success, false, `shared conflicts with another's exclusive: ${show(sx)}`);
  assert.equal(sx.lockedBy, 'bob', show(sx));
  const again = await bob.ok('lock_file', { file: 'docs/b.md', ttl: 7200 });
  assert.equal(again.success, true, show(again));
  assert.equal(again.token, ex.token, `re-lock keeps the token: ${show(ex)} then ${show(again)}`);
  assert.ok(Date.parse(again.expiresAt) > Date.parse(ex.expiresAt), `re-lock renews: ${ex.expiresAt} → ${again.expiresAt}`);
});

test('paths are normalised: ./a//b and an absolute path under the root name the same lease', { timeout: 60000 }, async (t) => {
  const { ws, alice, bob } = await twoAgents(t);
  const ex = await bob.ok('lock_file', { file: 'docs/b.md' });
  assert.equal(ex.success, true, show(ex));
  const norm = await alice.ok('check_lock', { file: './docs//b.md' });
  assert.equal(norm.locked, true, show(norm));
  assert.equal(norm.lockedBy, 'bob', show(norm));
  const abs = await alice.ok('check_lock', { file: `${ws.root}/docs/b.md` });
  assert.equal(abs.lockedBy, 'bob', `an absolute path under the root is the same key: ${show(abs)}`);
  const dotdot = await alice.ok('lock_file', { file: 'docs/x/../b.md' });
  assert.equal(dotdot.success, false, `docs/x/../b.md is docs/b.md: ${show(dotdot)}`);
  assert.equal(dotdot.lockedBy, 'bob', show(dotdot));
});

test('a pattern lease conflicts with the paths it matches; a file name is literal', { timeout: 60000 }, async (t) => {
  const { alice, bob } = await twoAgents(t);
  const pat = await alice.ok('lock_file', { pattern: 'src/api/**' });
  assert.equal(pat.success, true, show(pat));
  const inside = await bob.ok('lock_file', { file: 'src/api/v1/users.rs' });
  assert.equal(inside.success, false, `a file under a locked pattern is refused: ${show(inside)}`);
  assert.equal(inside.lockedBy, 'alice', show(inside));
  const overlap = await bob.ok('lock_file', { pattern: 'src/**/*.rs' });
  assert.equal(overlap.success, false, `overlapping patterns conflict: ${show(overlap)}`);
  const outside = await bob.ok('lock_file', { file: 'src/web/app.ts' });
  assert.equal(outside.success, true, show(outside));
  const lit = await alice.ok('lock_file', { file: 'app/[id]/page.tsx' });
  assert.equal(lit.success, true, show(lit));
  const other = await bob.ok('lock_file', { file: 'app/i/page.tsx' });
  assert.equal(other.success, true, `[id] in a file name is not a wildcard: ${show(other)}`);
  const dc = await bob.ok('detect_conflicts', { files: ['src/api/x.rs', 'src/web/app.ts'] });
  assert.equal(dc.hasConflicts, true, show(dc));
  assert.deepEqual(dc.conflicts.map((c) => c.file), ['src/api/x.rs'], show(dc));
  assert.equal(dc.conflicts[0].lockedBy, 'alice', show(dc));
  const un = await alice.ok('unlock_file', { pattern: 'src/api/**' });
  assert.equal(un.success, true, show(un));
  assert.equal((await bob.ok('lock_file', { file: 'src/api/v1/users.rs' })).success, true);
});

test('a lease past its TTL is released by the hub: file:unlocked with reason expired', { timeout: 60000 }, async (t) => {
  const { alice, bob } = await twoAgents(t);
  const cursor = await alice.cursor();
  const short = await alice.ok('lock_file', { file: 'tmp/short.txt', ttl: 1 });
  assert.equal(short.success, true, show(short));
  let expired;
  let since = cursor;
  const deadline = Date.now() + 15000;
  while (!expired && Date.now() < deadline) {
    const r = await alice.ok('wait_for_events', { since, types: ['file:unlocked'], timeoutMs: 5000 });
    expired = r.events.find((e) => e.data.file === 'tmp/short.txt');
    since = r.lastId;
  }
  assert.ok(expired, 'file:unlocked for the expired lease within 15 s');
  assert.equal(expired.data.reason, 'expired', show(expired));
  assert.equal((await bob.ok('check_lock', { file: 'tmp/short.txt' })).locked, false);
  const next = await bob.ok('lock_file', { file: 'tmp/short.txt' });
  assert.equal(next.success, true, show(next));
  assert.ok(next.token > short.token, show(next));
});

test('a second live session asking for a taken agent id gets a distinct one and is told so', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [a1, a2] = await clients(ws, [{ agent: 'alice', label: 'alice-1' }, { agent: 'alice', label: 'alice-2' }]);
  const r1 = await a1.register();
  const r2 = await a2.register();
  assert.equal(r1.agentId, 'alice', show(r1));
  assert.notEqual(r2.agentId, 'alice', `ids are unique among live sessions: ${show(r2)}`);
  assert.equal(r2.agentId, 'alice-2', show(r2));
  assert.notEqual(r1.sessionId, r2.sessionId);
  const agents = (await a1.ok('list_agents', {})).agents.map((a) => a.agentId).sort();
  assert.deepEqual(agents, ['alice', 'alice-2'], show(agents));
  // Each acts as itself.
  const l = await a2.ok('lock_file', { file: 'x.c' });
  assert.equal((await a1.ok('check_lock', { file: 'x.c' })).lockedBy, 'alice-2', show(l));
});

test('task flow: availability honours held files and dependencies; release reopens and frees the files', { timeout: 60000 }, async (t) => {
  const { alice, bob } = await twoAgents(t);
  await alice.ok('create_task', { taskId: 'BASE', title: 'base', files: ['lib/base.c'], priority: 1 });
  await alice.ok('create_task', { taskId: 'TOP', title: 'top', files: ['lib/top.c'], dependsOn: ['BASE'], priority: 9 });
  await alice.ok('create_task', { taskId: 'HELD', title: 'held', files: ['lib/held.c'], priority: 5 });
  const held = await alice.ok('lock_file', { file: 'lib/held.c' });
  assert.equal(held.success, true, show(held));

  // For bob: TOP waits for BASE, HELD's file is alice's; only BASE is available.
  const avail = await bob.ok('find_available_tasks', {});
  assert.deepEqual(avail.tasks.map((x) => x.taskId), ['BASE'], show(avail));
  const early = await bob.ok('claim_task', { taskId: 'TOP' });
  assert.equal(early.success, false, `a task with unmet dependencies cannot be claimed: ${show(early)}`);

  const c = await bob.ok('claim_task', { taskId: 'BASE' });
  assert.equal(c.success, true, show(c));
  const rel = await bob.ok('release_task', { taskId: 'BASE', reason: 'later' });
  assert.equal(rel.success, true, show(rel));
  assert.equal(rel.task.status, 'open', show(rel));
  assert.equal((await alice.ok('check_lock', { file: 'lib/base.c' })).locked, false, 'release frees the files');

  assert.equal((await bob.ok('claim_task', { taskId: 'BASE' })).success, true);
  const done = await bob.ok('complete_task', { taskId: 'BASE', result: 'merged' });
  assert.equal(done.success, true, show(done));
  const after = await bob.ok('find_available_tasks', {});
  assert.deepEqual(after.tasks.map((x) => x.taskId), ['TOP'], `TOP is available once BASE is completed: ${show(after)}`);
  const failed = await bob.ok('claim_task', { taskId: 'TOP' });
  assert.equal(failed.success, true, show(failed));
  const f = await bob.ok('release_task', { taskId: 'TOP', failed: true, reason: 'broken' });
  assert.equal(f.task.status, 'failed', show(f));
  const list = await alice.ok('list_tasks', { status: 'completed' });
  assert.deepEqual(list.tasks.map((x) => x.taskId), ['BASE'], show(list));
});

test('an agent that comes back under its id resumes its leases', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const observer = await ws.client({ agent: 'observer' });
  await observer.register();
  const first = RawConn.bridge(ws, { label: 'alice-first', args: ['--agent', 'alice'] });
  await first.initialize();
  const lk = await first.callTool('lock_file', { file: 'keep.c' });
  assert.equal(lk.result.structuredContent.success, true, show(lk));
  await first.close(); // the session ends; the grace period (30 s) starts

  const again = await ws.client({ agent: 'alice', label: 'alice-again' });
  const r = await again.register();
  assert.equal(r.agentId, 'alice', `the id is resumed, not alice-2: ${show(r)}`);
  const c = await observer.ok('check_lock', { file: 'keep.c' });
  assert.equal(c.lockedBy, 'alice', show(c));
  assert.equal(c.token, lk.result.structuredContent.token, show(c));
  const u = await again.ok('unlock_file', { file: 'keep.c' });
  assert.equal(u.success, true, `the resumed agent holds its lease: ${show(u)}`);
});

test('register_agent again keeps the session agent; an agent session cannot force or act for another', { timeout: 60000 }, async (t) => {
  const { alice, bob } = await twoAgents(t);
  const again = await alice.ok('register_agent', { capabilities: ['rust'] });
  assert.equal(again.agentId, 'alice', `re-registering keeps the id: ${show(again)}`);
  const held = await bob.ok('lock_file', { file: 'src/owned.rs' });
  assert.equal(held.success, true, show(held));
  // Leases mean nothing if one agent can drop another's: force is for the
  // workspace owner (the CLI), not for agent sessions.
  const forced = await alice.tool('unlock_file', { file: 'src/owned.rs', force: true });
  assert.equal(forced.isError, true, `an agent's forced unlock is refused: ${show(forced)}`);
  const asBob = await alice.tool('lock_file', { file: 'src/other.rs', agentId: 'bob' });
  assert.equal(asBob.isError, true, `acting as another agent is refused: ${show(asBob)}`);
  assert.match(asBob.content[0].text, /agentId/);
  const still = await bob.ok('check_lock', { file: 'src/owned.rs', token: held.token });
  assert.equal(still.valid, true, `bob's lease is intact: ${show(still)}`);
});
