// tls_client — an MCP client over Streamable HTTP on HTTPS, run by
// tls.test.mjs in its own node process: Node reads NODE_EXTRA_CA_CERTS
// (the certificate to trust) only at start-up. Usage:
//   node lib/tls_client.mjs https://127.0.0.1:PORT TOKEN
// It prints one JSON line per message ({dir:"out"|"in", msg}) so the
// parent can check them against the schema, then {dir:"result", …} with
// the tool results, and exits 0; on failure {dir:"error", message} and
// exit 1.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [url, token] = process.argv.slice(2);
const emit = (dir, body) => process.stdout.write(`${JSON.stringify({ dir, ...body })}\n`);

/** Logs every message in both directions; forwards everything else. */
class LoggingTransport {
  constructor(inner) {
    this.inner = inner;
    this.closing = false;
  }

  async start() {
    this.inner.onmessage = (msg, extra) => {
      emit('in', { msg });
      this.onmessage?.(msg, extra);
    };
    this.inner.onerror = (err) => {
      // The SDK aborts its own GET stream on close: not an error of the hub.
      if (!this.closing) emit('transport-error', { message: String(err && err.message) });
      this.onerror?.(err);
    };
    this.inner.onclose = () => this.onclose?.();
    return this.inner.start();
  }

  async send(msg, options) {
    emit('out', { msg });
    return this.inner.send(msg, options);
  }

  close() {
    this.closing = true;
    return this.inner.close();
  }

  setProtocolVersion(v) {
    this.inner.setProtocolVersion?.(v);
  }

  get sessionId() {
    return this.inner.sessionId;
  }
}

try {
  const inner = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const transport = new LoggingTransport(inner);
  const client = new Client({ name: 'coordhub-e2e-tls', version: '1.0.0' }, { capabilities: {} });
  await client.connect(transport);
  const lock = await client.callTool({ name: 'lock_file', arguments: { file: 'src/tls.c', reason: 'over https' } });
  const list = await client.callTool({ name: 'list_locked_files', arguments: {} });
  emit('result', { sessionId: transport.sessionId, lock: lock.structuredContent, list: list.structuredContent });
  await client.close();
  process.exit(0);
} catch (err) {
  emit('error', { message: String(err && (err.cause?.code || err.message)) });
  process.exit(1);
}
