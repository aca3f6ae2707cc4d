// Who is the admin on the hub's Unix socket (docs/security.md): only a
// connection that opens with the workspace's admin token, as the CLI does.
// What a client calls itself (clientInfo.name "coordhub-cli") grants
// nothing: such a session is an ordinary agent, refused a forced unlock of
// another agent's lease, while the real CLI (`coordhub unlock --force`)
// still releases it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { workspace, within } from './lib/harness.mjs';
import { RawConn } from './lib/raw.mjs';

const FILE = 'src/held.c';

function show(x) {
  return JSON.stringify(x);
}

/** Run the coordhub CLI for workspace ws; resolves {code, stdout, stderr}. */
function cli(ws, args) {
  return new Promise((resolve) => {
    execFile(ws.bin, [...args, ...ws.dirArgs()], { cwd: ws.root, env: ws.env(), timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Send one control line on a fresh socket connection; resolves with every
 * line the hub answered before it closed the connection. */
function control(ws, line) {
  return within(10000, new Promise((resolve, reject) => {
    const s = net.createConnection(ws.socketPath);
    let buf = '';
    s.on('connect', () => s.write(JSON.stringify(line) + '\n'));
    s.on('data', (d) => (buf += d.toString('utf8')));
    s.on('error', reject);
    s.on('close', () => resolve(buf.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))));
  }), `control line ${line.coordhub}`);
}

function toolCall(conn, id, name, args) {
  return conn.request('tools/call', { name, arguments: args }, { id });
}

test('a socket client calling itself coordhub-cli is an agent, not the admin; the CLI is', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const holder = await ws.client({ agent: 'holder' });
  await holder.register();
  assert.equal((await holder.ok('lock_file', { file: FILE })).success, true);

  const fake = await RawConn.socket(ws, { label: 'fake-cli' });
  await fake.initialize('2025-11-25', { name: 'coordhub-cli', version: '9.9.9' });
  const forced = await toolCall(fake, 2, 'unlock_file', { file: FILE, force: true });
  assert.equal(forced.result?.isError, true, `the forced unlock is refused: ${show(forced)}`);
  assert.match(forced.result.content[0].text, /only an admin may force/);
  const asOther = await toolCall(fake, 3, 'unlock_file', { file: FILE, agentId: 'holder' });
  assert.equal(asOther.result?.isError, true, `acting as the holder is refused: ${show(asOther)}`);
  assert.equal((await holder.ok('check_lock', { file: FILE })).lockedBy, 'holder', 'the lease is intact');
  // It became an agent of its own on its first coordination call, like any
  // other client: the name gave it no CLI session.
  const mine = await toolCall(fake, 4, 'lock_file', { file: 'src/own.c' });
  assert.equal(mine.result?.structuredContent?.success, true, show(mine));
  const agents = (await holder.ok('list_agents')).agents.map((a) => a.agentId);
  assert.ok(agents.some((a) => /^coordhub-cli-[0-9a-f]{6}$/.test(a)), `an agent coordhub-cli-…: ${show(agents)}`);

  // The real CLI presents the admin token: its forced unlock works.
  const r = await cli(ws, ['unlock', FILE, '--force']);
  assert.equal(r.code, 0, `coordhub unlock --force: ${r.stderr}`);
  assert.equal((await holder.ok('check_lock', { file: FILE })).locked, false, 'the CLI released the lease');
});

test('admin control lines need the admin token: a wrong or missing one is refused, nothing changes', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  const holder = await ws.client({ agent: 'holder' });
  await holder.register();
  assert.equal((await holder.ok('lock_file', { file: FILE })).success, true);
  const token = readFileSync(path.join(ws.stateDir, 'token'), 'utf8').trim();

  for (const [what, line] of [
    ['admin session without a token', { coordhub: 'admin' }],
    ['admin session with a wrong token', { coordhub: 'admin', token: 'f'.repeat(token.length) }],
    ['admin session with a non-string token', { coordhub: 'admin', token: 12 }],
    ['key list without a token', { coordhub: 'key', op: 'list' }],
    ['key create with a wrong token', { coordhub: 'key', op: 'create', name: 'x', token: token + '0' }],
    ['stop without a token', { coordhub: 'stop' }],
  ]) {
    const answers = await control(ws, line);
    assert.equal(answers.length, 1, `${what}: one answer, then the hub closes: ${show(answers)}`);
    const [a] = answers;
    assert.equal(a.coordhub, line.coordhub, `${what}: ${show(a)}`);
    assert.equal(a.ok, false, `${what}: ${show(a)}`);
    assert.equal(a.code, 'unauthorized', `${what}: ${show(a)}`);
    assert.match(a.error, /admin token/, `${what}: ${show(a)}`);
  }
  // Nothing changed: the hub runs, the lease stands, no key was made.
  assert.equal((await holder.ok('check_lock', { file: FILE })).lockedBy, 'holder');
  const [listed] = await control(ws, { coordhub: 'key', op: 'list', token });
  assert.equal(listed.ok, true, show(listed));
  assert.deepEqual(listed.result.keys, [], 'no key was created');

  // With the token, an admin session may force the release.
  const admin = await RawConn.socket(ws, { label: 'admin' });
  await admin.sendLine({ coordhub: 'admin', token });
  await admin.initialize();
  const forced = await toolCall(admin, 2, 'unlock_file', { file: FILE, force: true });
  assert.equal(forced.result?.structuredContent?.success, true, show(forced));
});
