// How an MCP session's relative paths resolve (docs/tools.md "How paths
// resolve"), seen by the official SDK client: against the directory the
// bridge was started in, or against the MCP roots the client declares
// (roots/list, asked again on notifications/roots/list_changed); every
// answer shows the workspace key it leased.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, mkdtempSync, rmSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { workspace } from './lib/harness.mjs';

function monorepo(ws) {
  for (const d of ['packages/web/src', 'packages/api/src']) mkdirSync(path.join(ws.root, d), { recursive: true });
  writeFileSync(path.join(ws.root, 'packages/web/src/x.ts'), 'x\n');
}

const uri = (p) => pathToFileURL(p).href;

function hubLog(ws) {
  try {
    return readFileSync(path.join(ws.stateDir, 'hub.log'), 'utf8');
  } catch {
    return '';
  }
}

test('a bridge started in packages/web keys src/x.ts as packages/web/src/x.ts', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  monorepo(ws);
  const web = await ws.client({ agent: 'web-ide', cwd: path.join(ws.root, 'packages/web') });
  const root = await ws.client({ agent: 'root-agent' });
  const got = await web.ok('lock_file', { file: 'src/x.ts' });
  assert.equal(got.success, true);
  assert.equal(got.file, 'packages/web/src/x.ts');
  const refused = await root.ok('lock_file', { file: 'packages/web/src/x.ts' });
  assert.equal(refused.success, false, JSON.stringify(refused));
  assert.equal(refused.lockedBy, 'web-ide');
  const check = await web.ok('check_lock', { file: './src/x.ts' });
  assert.equal(check.file, 'packages/web/src/x.ts');
  assert.equal(check.locked, true);
  const bad = await web.tool('lock_file', { file: '../../../x.ts' });
  assert.equal(bad.isError, true);
  assert.match(bad.content[0].text, /argument 'file': path '\.\.\/\.\.\/\.\.\/x\.ts' escapes the workspace root/);
  const un = await web.ok('unlock_file', { file: 'src/x.ts' });
  assert.equal(un.file, 'packages/web/src/x.ts');
});

test('declared roots: the first root holding the file, absolute paths, outsiders ignored', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  monorepo(ws);
  const outside = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'coordhub-e2e-outside-')));
  t.after(() => rmSync(outside, { recursive: true, force: true }));
  const roots = [
    { uri: uri(outside), name: 'elsewhere' },
    { uri: uri(path.join(ws.root, 'packages/api')), name: 'api' },
    { uri: uri(path.join(ws.root, 'packages/web')), name: 'web' },
  ];
  // Started at the workspace root: the roots, not the directory, decide.
  const ide = await ws.client({ agent: 'ide', roots });
  const other = await ws.client({ agent: 'other' });
  const x = await ide.ok('lock_file', { file: 'src/x.ts' });
  assert.equal(x.file, 'packages/web/src/x.ts', 'exists only below the second usable root');
  const fresh = await ide.ok('lock_file', { file: 'src/new.ts' });
  assert.equal(fresh.file, 'packages/api/src/new.ts', 'exists nowhere: the first usable root');
  const abs = await ide.ok('lock_file', { file: path.join(ws.root, 'packages/web/src/z.ts') });
  assert.equal(abs.file, 'packages/web/src/z.ts');
  const pat = await ide.ok('lock_file', { pattern: 'gen/**' });
  assert.equal(pat.file, 'packages/api/gen/**');
  const task = await ide.ok('create_task', { title: 't', files: ['src/x.ts'], patterns: ['lib/'] });
  assert.deepEqual(task.task.files, ['packages/web/src/x.ts']);
  assert.deepEqual(task.task.patterns, ['packages/api/lib/**']);
  const clash = await other.ok('lock_file', { file: 'packages/web/src/x.ts' });
  assert.equal(clash.success, false);
  assert.equal(clash.lockedBy, 'ide');
  assert.ok(ide.rootsListed >= 1, 'the hub asked for the roots');
  assert.match(hubLog(ws), /MCP root ignored: root '.*coordhub-e2e-outside-.*' is outside the workspace/);
});

test('roots/list_changed: the hub asks again and new calls resolve against the new roots', { timeout: 60000 }, async (t) => {
  const ws = workspace(t);
  monorepo(ws);
  const ide = await ws.client({ agent: 'ide', roots: [{ uri: uri(path.join(ws.root, 'packages/api')) }] });
  const a = await ide.ok('lock_file', { file: 'src/y.ts' });
  assert.equal(a.file, 'packages/api/src/y.ts');
  const before = ide.rootsListed;
  await ide.setRoots([{ uri: uri(path.join(ws.root, 'packages/web')) }]);
  // The call goes out right after the notification: the hub holds it until
  // the client has answered the new roots/list.
  const b = await ide.ok('lock_file', { file: 'src/y.ts' });
  assert.equal(b.file, 'packages/web/src/y.ts');
  assert.equal(ide.rootsListed, before + 1);
  // No usable root left: back to the bridge's directory (the root here).
  await ide.setRoots([{ uri: 'https://example.invalid/repo' }]);
  const c = await ide.ok('lock_file', { file: 'src/y.ts' });
  assert.equal(c.file, 'src/y.ts');
});
