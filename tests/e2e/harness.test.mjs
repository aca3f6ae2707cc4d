// Tests of the test harness itself: the schema validator must pass what an
// official server sends and must catch what is wrong, or every other e2e
// test would pass vacuously. Needs no coordhub binary.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ValidatingTransport } from './lib/harness.mjs';
import { MessageValidator, ToolSchemas } from './lib/schema.mjs';

const INIT_OK = {
  protocolVersion: '2025-11-25',
  capabilities: { tools: {} },
  serverInfo: { name: 's', version: '1' },
};

function session(version = '2025-11-25') {
  const violations = [];
  const v = new MessageValidator({ label: 'self', violations, toolSchemas: new ToolSchemas() });
  v.noteOutgoing({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
  v.check({ jsonrpc: '2.0', id: 0, result: { ...INIT_OK, protocolVersion: version } });
  assert.deepEqual(violations, []);
  assert.equal(v.version, version);
  return { v, violations };
}

function answer(v, id, method, params, reply) {
  v.noteOutgoing({ jsonrpc: '2.0', id, method, params });
  v.check({ jsonrpc: '2.0', id, ...reply });
}

const TOOL = {
  name: 't',
  inputSchema: { type: 'object', properties: {} },
  outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
};

for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
  test(`validator (${version}) accepts well-formed messages`, () => {
    const { v, violations } = session(version);
    answer(v, 1, 'ping', undefined, { result: {} });
    answer(v, 2, 'tools/list', {}, { result: { tools: [TOOL] } });
    answer(v, 3, 'tools/call', { name: 't', arguments: {} }, { result: { content: [{ type: 'text', text: '{"ok":true}' }], structuredContent: { ok: true } } });
    answer(v, 4, 'tools/call', { name: 't', arguments: {} }, { result: { content: [{ type: 'text', text: 'bad arg' }], isError: true } });
    answer(v, 5, 'nope', {}, { error: { code: -32601, message: 'Method not found' } });
    v.check({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    v.check({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' } });
    v.check({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'coord://locks' } });
    v.check({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
    assert.deepEqual(violations, []);
  });
}

test('validator catches malformed messages', () => {
  const cases = [
    ['initialize result without serverInfo', (v) => answer(v, 1, 'initialize', {}, { result: { protocolVersion: '2025-11-25', capabilities: {} } })],
    ['tools/list result without tools', (v) => answer(v, 1, 'tools/list', {}, { result: {} })],
    ['CallToolResult whose content is not an array', (v) => answer(v, 1, 'tools/call', { name: 't' }, { result: { content: 'x' } })],
    ['text that is not the structuredContent', (v) => answer(v, 1, 'tools/call', { name: 't' }, { result: { content: [{ type: 'text', text: '{}' }], structuredContent: { a: 1 } } })],
    ['a successful tool result without structuredContent', (v) => answer(v, 1, 'tools/call', { name: 't' }, { result: { content: [{ type: 'text', text: 'hi' }] } })],
    ['structuredContent against the outputSchema', (v) => {
      answer(v, 1, 'tools/list', {}, { result: { tools: [TOOL] } });
      answer(v, 2, 'tools/call', { name: 't' }, { result: { content: [{ type: 'text', text: '{"ok":"yes"}' }], structuredContent: { ok: 'yes' } } });
    }],
    ['a response to an id never sent', (v) => v.check({ jsonrpc: '2.0', id: 99, result: {} })],
    ['two responses to one request', (v) => {
      answer(v, 1, 'ping', undefined, { result: {} });
      v.check({ jsonrpc: '2.0', id: 1, result: {} });
    }],
    ['a response after cancellation', (v) => {
      v.noteOutgoing({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 't' } });
      v.noteOutgoing({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } });
      v.check({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    }],
    ['an id-less error that is not a parse/invalid-request error', (v) => v.check({ jsonrpc: '2.0', id: null, error: { code: -32601, message: 'x' } })],
    ['an error without message', (v) => answer(v, 1, 'ping', undefined, { error: { code: -32601 } })],
    ['wrong jsonrpc version', (v) => answer(v, 1, 'ping', undefined, { jsonrpc: '1.0', result: {} })],
    ['resources/updated without uri', (v) => v.check({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: {} })],
    ['an unknown server notification', (v) => v.check({ jsonrpc: '2.0', method: 'notifications/whatever', params: {} })],
    ['logging message with a bad level', (v) => v.check({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'loud', data: 1 } })],
    ['neither result nor error', (v) => v.check({ jsonrpc: '2.0', id: 1 })],
    ['a non-object message', (v) => v.check(42)],
    ['a line that is not JSON', (v) => v.checkLine('{"jsonrpc":')],
  ];
  for (const [name, fn] of cases) {
    for (const version of ['2025-11-25', '2025-06-18']) {
      const { v, violations } = session(version);
      if (name === 'initialize result without serverInfo') {
        // a fresh, uninitialised validator
        violations.length = 0;
        v.version = null;
      }
      fn(v);
      assert.ok(violations.length > 0, `${version}: not caught: ${name}`);
    }
  }
});

test('the harness sees no violation from the official reference server', { timeout: 60000 }, async () => {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');
  for (const protocolVersion of ['2025-11-25', '2025-06-18']) {
    const violations = [];
    const v = new MessageValidator({ label: 'everything', violations, toolSchemas: new ToolSchemas() });
    const t = new ValidatingTransport(new StdioClientTransport({ command: process.execPath, args: [entry, 'stdio'], stderr: 'ignore' }), v, { protocolVersion });
    const c = new Client({ name: 'selftest', version: '1' }, { capabilities: {} });
    await c.connect(t);
    try {
      assert.equal(v.version, protocolVersion);
      const tools = await c.listTools();
      assert.ok(tools.tools.length > 0);
      await c.callTool({ name: 'get-structured-content', arguments: { location: 'New York' } });
      await c.ping();
      await c.listResources();
      await c.listPrompts();
      await c.request({ method: 'no/such_method', params: {} }, (await import('@modelcontextprotocol/sdk/types.js')).EmptyResultSchema).catch(() => {});
    } finally {
      await c.close();
    }
    assert.ok(v.count >= 7, `messages were checked (${v.count})`);
    assert.deepEqual(violations, []);
  }
});
