// Tools that come and go at run time, over the socket bridge (stdio) and
// over /mcp: a hub built with a test-only provider (tests/provider,
// COORDHUB_TESTPROV_BIN) whose test_toggle adds or removes test_extra.
// Both SDK clients hear notifications/tools/list_changed after each
// toggle (whichever session caused it), list the new tool, call it with
// its arguments validated, and once it is removed no longer can: the call
// is an unknown tool (-32602), as for any name the hub does not serve.
// A provider may also hold a call and answer it later (test_later, answered
// by test_release); a held call the client cancels, or whose session
// leaves, is offered to the provider's cancel and never answered.
// Every message is checked against the official schema by the harness.

import { test } from 'node:test';
import assert from 'node:assert/strict';

// The harness runs $COORDHUB_BIN: here the binary with the test provider.
const testprov = process.env.COORDHUB_TESTPROV_BIN;
if (!testprov) throw new Error('COORDHUB_TESTPROV_BIN is not set: point it at the built coordhub_testprov');
process.env.COORDHUB_BIN = testprov;

const { workspace, within, track } = await import('./lib/harness.mjs');
const { httpAgent, startHttpHub } = await import('./lib/http.mjs');

const CHANGED = 'notifications/tools/list_changed';

async function names(agent) {
  return (await agent.listAllTools()).map((t) => t.name);
}

function changedAfter(agent, mark, what) {
  return agent.nextMessage((m) => m.method === CHANGED, 10000, `${agent.label}: ${what}`, mark);
}

test('a provider adds and removes a tool: stdio and /mcp sessions are told, list and call it', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const web = await httpAgent(ws, hub, 'web');
  const cli = await ws.client({ agent: 'cli' });
  await cli.register();

  for (const a of [web, cli]) {
    const have = await names(a);
    assert.ok(have.includes('test_toggle'), `${a.label}: the provider's tool is listed`);
    assert.ok(have.includes('lock_file'), `${a.label}: the core's tools are still there`);
    assert.ok(!have.includes('test_extra'), `${a.label}: test_extra is not there yet`);
    // The provider's tools come after the hub's own.
    assert.ok(have.indexOf('test_toggle') > have.indexOf('wait_for_events'), `${a.label}: listing order`);
  }

  // The stdio session toggles: both sessions are told.
  let mw = web.mark();
  let mc = cli.mark();
  assert.deepEqual(await cli.ok('test_toggle'), { extra: true });
  await within(10000, Promise.all([changedAfter(web, mw, 'list_changed on /mcp'), changedAfter(cli, mc, 'list_changed on stdio')]), 'both sessions hear list_changed');
  for (const a of [web, cli]) assert.ok((await names(a)).includes('test_extra'), `${a.label}: test_extra is listed`);

  // Callable by both, its arguments validated against its inputSchema.
  assert.deepEqual(await cli.ok('test_extra', { text: 'hi' }), { echo: 'hi', agent: 'cli' });
  const viaWeb = await web.ok('test_extra', { text: 'web' });
  assert.equal(viaWeb.echo, 'web');
  const bad = await web.tool('test_extra', { text: 'x'.repeat(17) });
  assert.equal(bad.isError, true);
  assert.equal(bad.content[0].text, "argument 'text': must be a string of at most 16 characters");
  const missing = await cli.tool('test_extra', {});
  assert.equal(missing.isError, true);
  assert.equal(missing.content[0].text, "missing required argument 'text'");

  // The /mcp session toggles it away: both are told, neither can call it.
  mw = web.mark();
  mc = cli.mark();
  assert.deepEqual(await web.ok('test_toggle'), { extra: false });
  await within(10000, Promise.all([changedAfter(web, mw, 'list_changed on /mcp'), changedAfter(cli, mc, 'list_changed on stdio')]), 'both sessions hear the removal');
  for (const a of [web, cli]) {
    assert.ok(!(await names(a)).includes('test_extra'), `${a.label}: test_extra is gone`);
    await assert.rejects(a.tool('test_extra', { text: 'hi' }), (e) => {
      assert.equal(e.code, -32602, `${a.label}: ${e.message}`);
      assert.match(e.message, /Unknown tool: test_extra$/);
      return true;
    });
  }
  // The rest of the hub is untouched.
  assert.equal((await cli.ok('lock_file', { file: 'a.c' })).success, true);
});

test('a provider answers a held call later; a cancelled one, or one whose session left, it drops', { timeout: 90000 }, async (t) => {
  const ws = workspace(t);
  const hub = await startHttpHub(ws);
  const web = await httpAgent(ws, hub, 'web');
  const cli = await ws.client({ agent: 'cli' });
  await cli.register();

  // Held over both transports until test_release answers them.
  const one = track(cli.ok('test_later', { text: 'one' }));
  const two = track(web.ok('test_later', { text: 'two' }));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(one.settled || two.settled, false, 'held calls are not answered before test_release');
  assert.equal((await cli.ok('list_agents')).agents.length, 1, 'the hub answers other calls meanwhile');
  assert.deepEqual(await web.ok('test_release'), { held: 2, released: 2 });
  assert.deepEqual(await within(10000, one.promise, 'the stdio call is answered'), { echo: 'one' });
  assert.deepEqual(await within(10000, two.promise, 'the /mcp call is answered'), { echo: 'two' });

  // Cancelled by the client (notifications/cancelled): dropped, never answered.
  const ac = new AbortController();
  const cancelled = cli.tool('test_later', { text: 'gone' }, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 200));
  ac.abort();
  await assert.rejects(cancelled);
  assert.deepEqual(await cli.ok('test_release'), { held: 0, released: 0 }, 'the provider was told');

  // Its session leaves: dropped as well.
  const leaver = await ws.client({ agent: 'leaver' });
  await leaver.register();
  leaver.tool('test_later', { text: 'left' }).catch(() => {});
  await new Promise((r) => setTimeout(r, 200));
  await leaver.close();
  for (let i = 0; i < 100; i++) {
    const a = (await cli.ok('list_agents')).agents.find((x) => x.agentId === 'leaver');
    if (a && a.connected === false) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await cli.ok('list_agents')).agents.find((x) => x.agentId === 'leaver').connected, false);
  assert.deepEqual(await cli.ok('test_release'), { held: 0, released: 0 }, 'the provider was told');
});
