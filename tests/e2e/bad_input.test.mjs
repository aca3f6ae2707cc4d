// Bad input, row by row, over both transports a local agent uses: a
// `coordhub mcp` bridge (stdio) and the hub's Unix socket. Each row asserts
// the precise error, then proves nothing changed — no event since the
// baseline cursor (seq unchanged), same leases, tasks and agents — through a
// separate, well-behaved SDK session, and that the hub still serves a new
// session. Every line the hub writes is schema-checked by the harness.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Workspace } from './lib/harness.mjs';
import { RawConn } from './lib/raw.mjs';

function show(x) {
  const s = JSON.stringify(x);
  return s && s.length > 600 ? s.slice(0, 600) + '…' : s;
}

/** An error response whose id could not be known: null (JSON-RPC 2.0) or
 * absent (MCP 2025-11-25). */
function assertIdless(msg) {
  assert.ok(!('id' in msg) || msg.id === null, `error for an unreadable request carries no id: ${show(msg)}`);
}

function assertError(msg, code) {
  assert.ok(msg.error, `expected a JSON-RPC error ${code}, got ${show(msg)}`);
  assert.equal(msg.error.code, code, show(msg));
  assert.ok(typeof msg.error.message === 'string' && msg.error.message.length > 0, show(msg));
}

/** A tools/call answered isError:true whose text names argument arg. */
function assertToolError(msg, ...args) {
  assert.ok(msg.result, `expected a CallToolResult with isError, got ${show(msg)}`);
  assert.equal(msg.result.isError, true, show(msg));
  const text = (msg.result.content || []).map((c) => c.text || '').join(' ');
  for (const arg of args) assert.match(text, new RegExp(`\\b${arg}\\b`), `the error names '${arg}': ${text}`);
}

/** Waits for the next message that is not a notification. */
function nextReply(conn, what) {
  return conn.next((m) => !('method' in m), 10000, what);
}

/** After a row: either the connection still answers a ping, or it was
 * closed cleanly by the hub (after the error was delivered). */
async function stillWorksOrClosed(conn) {
  if (conn.ended) return 'closed';
  const r = await conn.request('ping', undefined, { id: 'after-row' }).catch((e) => e);
  if (r instanceof Error) {
    assert.ok(conn.ended, `connection neither answers nor closes: ${r.message}`);
    return 'closed';
  }
  assert.deepEqual(r.result, {}, show(r));
  return 'open';
}

async function mustKeepWorking(conn) {
  const r = await conn.request('ping', undefined, { id: 'after-row' });
  assert.deepEqual(r.result, {}, `the session keeps working after the error: ${show(r)}`);
}

const BIG = 3 * 1024 * 1024;
const TRUNC = '{"jsonrpc":"2.0","id":1,"method":"ping"';
const ESCAPES = ['../etc/passwd', '/etc/passwd', 'src/../../etc/passwd', './..'];

// Each row: name, init (initialize first; default true), run(conn).
const ROWS = [
  {
    name: 'malformed JSON → -32700, id null',
    async run(c) {
      await c.sendLine(TRUNC);
      const r = await nextReply(c, 'parse error');
      assertError(r, -32700);
      assertIdless(r);
      await mustKeepWorking(c);
    },
  },
  {
    name: 'trailing garbage after a JSON object → -32700',
    async run(c) {
      await c.sendLine('{"jsonrpc":"2.0","id":3,"method":"ping"} x');
      const r = await nextReply(c, 'parse error');
      assertError(r, -32700);
      assertIdless(r);
      await mustKeepWorking(c);
    },
  },
  ...[['a number', '42'], ['a string', '"hello"'], ['null', 'null'], ['an object without jsonrpc/method', '{"foo":1}'],
    ['an id without a method', '{"jsonrpc":"2.0","id":2}'], ['a non-string method', '{"jsonrpc":"2.0","id":4,"method":7}'],
    ['an object id', '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}']].map(([what, line]) => ({
    name: `valid JSON but not a request (${what}) → -32600`,
    async run(c) {
      await c.sendLine(line);
      const r = await nextReply(c, 'invalid request');
      assertError(r, -32600);
      // The id is echoed only when it is a valid one.
      const parsed = JSON.parse(line);
      if (parsed && (typeof parsed.id === 'string' || Number.isInteger(parsed.id)) && 'id' in r && r.id !== null) {
        assert.equal(r.id, parsed.id, show(r));
      } else {
        assertIdless(r);
      }
      await mustKeepWorking(c);
    },
  })),
  {
    name: 'jsonrpc "1.0" → -32600',
    async run(c) {
      await c.sendLine('{"jsonrpc":"1.0","id":5,"method":"ping"}');
      const r = await nextReply(c, 'invalid request');
      assertError(r, -32600);
      assert.ok(!('id' in r) || r.id === null || r.id === 5, show(r));
      await mustKeepWorking(c);
    },
  },
  ...[
    ['lock_file', { file: 42 }, 'file'],
    ['lock_file', { file: 'a.c', ttl: 'soon' }, 'ttl'],
    ['lock_file', { file: 'a.c', ttl: 0 }, 'ttl'],
    ['lock_file', { file: 'a.c', mode: 'sideways' }, 'mode'],
    ['lock_file', { file: 'a.c', waitMs: -5 }, 'waitMs'],
    ['lock_file', { file: 'a.c', reason: { long: true } }, 'reason'],
    ['unlock_file', { file: ['a.c'] }, 'file'],
    ['check_lock', {}, 'file'],
    ['check_lock', { file: 'a.c', token: 'abc' }, 'token'],
    ['create_task', {}, 'title'],
    ['create_task', { title: 'x', files: 'a.c' }, 'files'],
    ['create_task', { title: 'x', priority: 1.5 }, 'priority'],
    ['create_task', { title: 'x', dependsOn: ['NO-SUCH-TASK'] }, 'dependsOn'],
    ['claim_task', { taskId: 7 }, 'taskId'],
    ['wait_for_events', { timeoutMs: 'soon' }, 'timeoutMs'],
    ['register_agent', { agentId: 'bad id with spaces' }, 'agentId'],
    ['set_agent_status', { status: 'asleep' }, 'status'],
    ['publish_event', { type: 'file:locked', data: 'x' }, 'data'],
  ].map(([tool, args, arg]) => ({
    name: `${tool} ${JSON.stringify(args)} → isError naming '${arg}'`,
    async run(c) {
      assertToolError(await c.callTool(tool, args), arg);
      await mustKeepWorking(c);
    },
  })),
  // An escaped NUL would cut the string short ("src/a\u0000b.c" read as
  // "src/a"): the whole message is refused, with its id, before any tool
  // runs (docs/security.md). assertUnchanged then shows no lease on src/a
  // or src/**, no agent "nul", no task.
  ...[
    ['lock_file', { file: 'src/a\u0000b.c' }],
    ['lock_file', { pattern: 'src/\u0000**' }],
    ['register_agent', { agentId: 'nul\u0000agent' }],
    ['create_task', { title: 'cut\u0000here' }],
    ['publish_event', { type: 'build:done', data: { ['k\u0000']: 1 } }],
  ].map(([tool, args]) => ({
    name: `${tool} with U+0000 in ${JSON.stringify(Object.keys(args))} → -32600 with the id, naming the offset`,
    async run(c) {
      const r = await c.callTool(tool, args, { id: `nul-${tool}` });
      assertError(r, -32600);
      assert.equal(r.id, `nul-${tool}`, show(r));
      const line = JSON.stringify({ jsonrpc: '2.0', id: `nul-${tool}`, method: 'tools/call', params: { name: tool, arguments: args } });
      assert.equal(r.error.message, `Invalid Request: string contains U+0000 at offset ${line.indexOf('\\u0000')}`, show(r));
      await mustKeepWorking(c);
    },
  })),
  {
    name: 'a duplicate key in the arguments → -32600 with the id, naming key and offset',
    async run(c) {
      const line = '{"jsonrpc":"2.0","id":91,"method":"tools/call","params":{"name":"lock_file","arguments":{"file":"a.c","file":"src/**"}}}';
      await c.sendLine(line);
      const r = await nextReply(c, 'error for a duplicate key');
      assertError(r, -32600);
      assert.equal(r.id, 91, show(r));
      assert.equal(r.error.message, `Invalid Request: duplicate key "file" at offset ${line.lastIndexOf('"file"')}`, show(r));
      await mustKeepWorking(c);
    },
  },
  {
    name: 'a duplicate "id" → -32600, id null',
    async run(c) {
      await c.sendLine('{"jsonrpc":"2.0","id":92,"id":93,"method":"ping"}');
      const r = await nextReply(c, 'error for a duplicate id');
      assertError(r, -32600);
      assertIdless(r);
      assert.match(r.error.message, /duplicate key "id" at offset 25/, show(r));
      await mustKeepWorking(c);
    },
  },
  {
    name: 'an escaped backslash before u0000 is text, not a NUL: check_lock answers for the literal name',
    async run(c) {
      const r = await c.callTool('check_lock', { file: 'x\\u0000.c' });
      assert.ok(r.result && !r.result.isError, show(r));
      assert.equal(r.result.structuredContent.locked, false, show(r));
      await mustKeepWorking(c);
    },
  },
  {
    name: 'unknown tool → -32602',
    async run(c) {
      const r = await c.callTool('no_such_tool', {});
      assertError(r, -32602);
      await mustKeepWorking(c);
    },
  },
  {
    name: 'unknown method → -32601',
    async run(c) {
      const r = await c.request('coordhub/no_such_method', {});
      assertError(r, -32601);
      await mustKeepWorking(c);
    },
  },
  {
    name: 'future probe server/discover → an error, not silence',
    async run(c) {
      const r = await c.request('server/discover', {}, { timeoutMs: 5000 });
      assert.ok(r.error, `server/discover is answered with an error: ${show(r)}`);
      assert.ok(Number.isInteger(r.error.code) && r.error.code < 0, show(r));
      await mustKeepWorking(c);
    },
  },
  {
    name: 'server/discover before initialize → an error, not silence',
    init: false,
    async run(c) {
      const r = await c.request('server/discover', {}, { timeoutMs: 5000 });
      assert.ok(r.error, `server/discover is answered with an error: ${show(r)}`);
    },
  },
  ...ESCAPES.flatMap((p) => [
    {
      name: `lock_file escaping the workspace (${p}) → isError naming 'file'`,
      async run(c) {
        assertToolError(await c.callTool('lock_file', { file: p }), 'file');
        await mustKeepWorking(c);
      },
    },
  ]),
  {
    name: "check_lock/unlock_file/create_task with ../ paths → isError naming the argument",
    async run(c) {
      assertToolError(await c.callTool('check_lock', { file: '../x' }), 'file');
      assertToolError(await c.callTool('unlock_file', { file: '../x' }), 'file');
      assertToolError(await c.callTool('create_task', { title: 't', files: ['ok.c', '../x'] }), 'files');
      assertToolError(await c.callTool('detect_conflicts', { files: ['/etc/passwd'] }), 'files');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'renew_locks with a ../ path, and a forced unlock from an agent session → refused, nobody registered',
    async run(c) {
      assertToolError(await c.callTool('renew_locks', { files: ['../x'] }), 'files');
      assertToolError(await c.callTool('unlock_file', { file: 'any.c', force: true }), 'force');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'lock_file with both file and pattern → isError naming both',
    async run(c) {
      assertToolError(await c.callTool('lock_file', { file: 'a.c', pattern: 'src/**' }), 'file', 'pattern');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'lock_file with neither file nor pattern → isError',
    async run(c) {
      assertToolError(await c.callTool('lock_file', { reason: 'nothing' }), 'file');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'a 3 MiB line → -32600 with id null; the connection works on or closes cleanly',
    async run(c) {
      const head = '{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"lock_file","arguments":{"file":"';
      const tail = '"}}}';
      const line = Buffer.alloc(BIG, 'a');
      line.write(head, 0);
      line.write(tail, BIG - tail.length);
      await c.sendLine(line);
      const r = await c.next((m) => !('method' in m), 20000, 'error for the oversized line');
      assertError(r, -32600);
      assertIdless(r);
      await stillWorksOrClosed(c);
    },
  },
  {
    name: 'invalid UTF-8 bytes → -32700',
    async run(c) {
      const line = Buffer.concat([
        Buffer.from('{"jsonrpc":"2.0","id":88,"method":"tools/call","params":{"name":"lock_file","arguments":{"file":"'),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from('.c"}}}'),
      ]);
      c.expectAnswer(88, 'tools/call', { name: 'lock_file' });
      await c.sendLine(line);
      const r = await nextReply(c, 'error for invalid UTF-8');
      assertError(r, -32700);
      assert.ok(!('id' in r) || r.id === null || r.id === 88, show(r));
      await mustKeepWorking(c);
    },
  },
  {
    name: 'a lone UTF-16 surrogate escape in a path → -32700 or isError naming file',
    async run(c) {
      c.expectAnswer(89, 'tools/call', { name: 'lock_file' });
      await c.sendLine('{"jsonrpc":"2.0","id":89,"method":"tools/call","params":{"name":"lock_file","arguments":{"file":"\\ud800x.c"}}}');
      const r = await nextReply(c, 'error for a lone surrogate');
      if (r.error) assertError(r, -32700);
      else assertToolError(r, 'file');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'JSON nested deeper than 64 → -32700 or -32600',
    async run(c) {
      const deep = '['.repeat(200) + ']'.repeat(200);
      c.expectAnswer(90, 'tools/call', { name: 'publish_event' });
      await c.sendLine(`{"jsonrpc":"2.0","id":90,"method":"tools/call","params":{"name":"publish_event","arguments":{"type":"x:y","data":{"v":${deep}}}}}`);
      const r = await nextReply(c, 'error for deep nesting');
      assert.ok(r.error && [-32700, -32600].includes(r.error.code), `deep nesting refused: ${show(r)}`);
      await mustKeepWorking(c);
    },
  },
  {
    name: 'requests before initialize → -32600 (ping allowed), then initialize still works',
    init: false,
    async run(c) {
      assertError(await c.request('tools/list', {}), -32600);
      assertError(await c.callTool('lock_file', { file: 'early.c' }), -32600);
      assertError(await c.request('resources/read', { uri: 'coord://locks' }), -32600);
      const p = await c.request('ping');
      assert.deepEqual(p.result, {}, `ping is allowed before initialize: ${show(p)}`);
      const init = await c.initialize();
      assert.equal(init.protocolVersion, '2025-11-25');
      await mustKeepWorking(c);
    },
  },
  {
    name: 'an unknown notification is ignored (no reply)',
    async run(c) {
      const from = c.messages.length;
      await c.notify('notifications/no_such_thing', { x: 1 });
      await mustKeepWorking(c);
      const replies = c.messages.slice(from).filter((m) => !('method' in m));
      assert.deepEqual(replies.map((m) => m.id), ['after-row'], `only the ping was answered: ${show(replies)}`);
    },
  },
];

describe('bad input changes nothing and gets a precise error', { timeout: 240000 }, () => {
  let ws;
  let observer;

  before(async () => {
    ws = new Workspace('bad-input');
    await ws.startHub();
    observer = await ws.client({ agent: 'observer' });
    await observer.register();
  });

  after(() => ws && ws.cleanup());

  // The state a bad request must not touch.
  async function snapshot() {
    const cursor = await observer.cursor();
    const locks = (await observer.ok('list_locked_files', {})).locks;
    const tasks = (await observer.ok('list_tasks', {})).tasks;
    const agents = (await observer.ok('list_agents', {})).agents.map((a) => a.agentId).sort();
    return { cursor, locks, tasks, agents };
  }

  async function assertUnchanged(base) {
    const ev = await observer.ok('wait_for_events', { since: base.cursor, timeoutMs: 0 });
    assert.deepEqual(ev.events, [], `no event since the bad input: ${show(ev.events)}`);
    assert.equal(String(ev.lastId), String(base.cursor), 'seq unchanged');
    const now = await snapshot();
    assert.deepEqual(now.locks, base.locks, 'leases unchanged');
    assert.deepEqual(now.tasks, base.tasks, 'tasks unchanged');
    assert.deepEqual(now.agents, base.agents, 'agents unchanged');
  }

  // A new session on the same face is served: initialize, ping, tools/list.
  async function hubServesNewSession(kind) {
    const c = kind === 'stdio' ? RawConn.bridge(ws, { label: 'fresh' }) : await RawConn.socket(ws, { label: 'fresh' });
    await c.initialize();
    assert.deepEqual((await c.request('ping')).result, {});
    assert.ok((await c.request('tools/list', {})).result.tools.length > 0);
    await c.close();
  }

  // When a face stops answering initialize at all, the rows after it fail
  // at once (naming the first failure) instead of each waiting out its
  // timeout, so the file stays fast when the hub is broken.
  const dead = {};

  let n = 0;
  for (const kind of ['stdio', 'socket']) {
    for (const row of ROWS) {
      test(`${kind}: ${row.name}`, { timeout: 60000 }, async () => {
        if (dead[kind]) assert.fail(`not run: ${dead[kind]}`);
        const v0 = ws.violations.length;
        const base = await snapshot();
        const label = `${kind}-${++n}`;
        const c = kind === 'stdio' ? RawConn.bridge(ws, { label }) : await RawConn.socket(ws, { label });
        try {
          if (row.init !== false) {
            await c.initialize().catch((e) => {
              dead[kind] = `the hub did not answer initialize on ${kind} (row "${row.name}"): ${e.message}`;
              throw e;
            });
          }
          c.markNow(); // replies to the row's input only
          await row.run(c);
          // Checked while the bad session is still open, so that what its
          // end causes (tested in coordination.test.mjs) is not counted.
          await assertUnchanged(base);
        } finally {
          await c.close();
        }
        await hubServesNewSession(kind).catch((e) => {
          dead[kind] = `the hub did not serve a new ${kind} session after row "${row.name}": ${e.message}`;
          throw e;
        });
        assert.deepEqual(ws.hubPids().length, 1, 'the hub is still running');
        // This row's protocol violations (the suite's after hook reports all).
        assert.deepEqual(ws.violations.slice(v0), [], 'no protocol violation');
      });
    }
  }
});
