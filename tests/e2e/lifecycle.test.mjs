// The task and agent lifecycle seen by real MCP clients (the official SDK)
// through `coordhub mcp`: cancel, reopen and update a task with the
// creator/claimer/admin rule, and an agent removed by the workspace owner
// (`coordhub agent remove`) while its session is live — the session is
// told, loses its agent, and registers again on its next call. Every
// message the hub sends is checked against the official MCP schema.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { workspace, clients } from './lib/harness.mjs';

function show(x) {
  return JSON.stringify(x);
}

test('cancel, reopen and update: creator or claimer may, others are refused', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob, carol] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }, { agent: 'carol' }]);
  // createdBy is the creating session's agent: alice registers first.
  await alice.register();
  await alice.ok('create_task', { taskId: 'T-1', title: 'first', files: ['a.c'] });
  await bob.ok('claim_task', { taskId: 'T-1' });

  const no = await carol.ok('cancel_task', { taskId: 'T-1' });
  assert.equal(no.success, false, show(no));
  assert.match(no.error, /created by alice and claimed by bob/);
  const err = await carol.tool('cancel_task', { taskId: 'NOPE' });
  assert.equal(err.isError, true, show(err));

  const done = await bob.ok('cancel_task', { taskId: 'T-1', reason: 'not needed' });
  assert.equal(done.success, true, show(done));
  assert.equal(done.task.status, 'cancelled');
  assert.deepEqual(done.unlockedFiles, ['a.c']);
  assert.equal((await carol.ok('check_lock', { file: 'a.c' })).locked, false);

  const reopened = await alice.ok('reopen_task', { taskId: 'T-1' });
  assert.equal(reopened.task.status, 'open', show(reopened));
  const upd = await alice.ok('update_task', { taskId: 'T-1', title: 'renamed', priority: 3 });
  assert.equal(upd.task.title, 'renamed', show(upd));
  assert.equal(upd.task.priority, 3);
  const notMine = await bob.ok('update_task', { taskId: 'T-1', title: 'bob was here' });
  assert.equal(notMine.success, false, show(notMine));
});

test('an agent removed by the owner: its session is told, loses it, and registers again', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  await alice.ok('lock_file', { file: 'a.c' });
  await alice.ok('create_task', { taskId: 'T-2', title: 'work', files: ['t.c'] });
  await alice.ok('claim_task', { taskId: 'T-2' });

  // An agent session is not admin.
  const denied = await bob.tool('remove_agent', { agentId: 'alice' });
  assert.equal(denied.isError, true, show(denied));

  const from = alice.mark();
  const out = execFileSync(ws.bin, ['agent', 'remove', ...ws.dirArgs(), 'alice', '--json'], { env: ws.env() });
  const r = JSON.parse(out.toString());
  assert.equal(r.success, true, show(r));
  assert.deepEqual(r.unlockedFiles.sort(), ['a.c', 't.c']);
  assert.deepEqual(r.releasedTasks, ['T-2']);

  const told = await alice.nextMessage(
    (m) => m.method === 'notifications/message' && m.params.logger === 'coordhub' && m.params.data.agentId === 'alice',
    10000,
    'the removal warning',
    from,
  );
  assert.equal(told.params.level, 'warning', show(told));
  assert.match(told.params.data.message, /removed/);

  const locks = await bob.ok('list_locked_files', {});
  assert.equal(locks.locks.length, 0, show(locks));
  const tasks = await bob.ok('list_tasks', { status: 'open' });
  assert.deepEqual(tasks.tasks.map((x) => x.taskId), ['T-2']);

  // alice's next call registers its agent again (a new one) and works.
  const again = await alice.ok('lock_file', { file: 'b.c' });
  assert.equal(again.success, true, show(again));
  const agents = await bob.ok('list_agents', {});
  assert.ok(agents.agents.some((a) => a.agentId === 'alice' && a.status === 'active'), show(agents));
});

test('a claimer that comes back gets its extra claim files back with the task’s own', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const [alice, bob] = await clients(ws, [{ agent: 'alice' }, { agent: 'bob' }]);
  await alice.register();
  await alice.ok('create_task', { taskId: 'T-R', title: 'resume', files: ['own.c'], patterns: ['gen/**'] });
  const c = await alice.ok('claim_task', { taskId: 'T-R', files: ['extra.c'] });
  assert.deepEqual(c.locks.map((l) => l.file), ['own.c', 'extra.c', 'gen/**'], show(c));

  // While alice is away its leases are ended (the owner forces them) and
  // bob takes one of the task's files.
  for (const f of ['own.c', 'extra.c']) {
    execFileSync(ws.bin, ['unlock', ...ws.dirArgs(), f, '--force'], { env: ws.env() });
  }
  await bob.ok('lock_file', { file: 'own.c' });
  await alice.close();

  const again = await ws.client({ agent: 'alice', label: 'alice-again' });
  const r = await again.register();
  assert.equal(r.agentId, 'alice', show(r));
  assert.equal(r.resumed, true, show(r));
  assert.deepEqual(r.regranted.map((x) => [x.file, x.taskId]), [['extra.c', 'T-R']], `the extra file comes back: ${show(r)}`);
  assert.deepEqual(r.taken.map((x) => [x.file, x.lockedBy]), [['own.c', 'bob']], show(r));
  const held = await bob.ok('check_lock', { file: 'extra.c' });
  assert.equal(held.lockedBy, 'alice', show(held));
  const done = await again.ok('complete_task', { taskId: 'T-R' });
  assert.deepEqual(done.unlockedFiles.sort(), ['extra.c', 'gen/**'], show(done));
});
