// MCP over HTTPS with the official SDK: a hub with a throw-away
// self-signed certificate (made with the openssl CLI) serves /mcp over
// TLS; StreamableHTTPClientTransport connects, initializes and calls tools
// when Node is told to trust the certificate (NODE_EXTRA_CA_CERTS), and
// refuses to when it is not. The client runs in its own node process
// (lib/tls_client.mjs) because Node reads NODE_EXTRA_CA_CERTS at start-up;
// every message it exchanged is checked against the official schema here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspace, within } from './lib/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A self-signed certificate for 127.0.0.1 in dir: {cert, key}. */
function selfSigned(dir) {
  mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=coordhub-e2e', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl req failed: ${r.stderr}`);
  return { cert, key };
}

/** `coordhub serve --daemon` on HTTPS, an ephemeral loopback port: {url, token}. */
async function startTlsHub(ws, tls) {
  const fd = ws.logFd('serve');
  const child = spawn(ws.bin, ['serve', '--daemon', ...ws.dirArgs(), '--http', '127.0.0.1:0',
    '--tls-cert', tls.cert, '--tls-key', tls.key], { cwd: ws.root, env: ws.env(), stdio: ['ignore', fd, fd] });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `coordhub serve --daemon exited with ${code}:\n${ws.log('serve')}`);
  const url = readFileSync(path.join(ws.stateDir, 'http.addr'), 'utf8').trim();
  const token = readFileSync(path.join(ws.stateDir, 'token'), 'utf8').trim();
  assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
  return { url, token };
}

/** Run lib/tls_client.mjs against hub with extra env; {code, lines}. */
async function runClient(ws, hub, env) {
  const child = spawn(process.execPath, [path.join(HERE, 'lib', 'tls_client.mjs'), hub.url, hub.token], {
    cwd: HERE,
    env: ws.env(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  const code = await within(60000, new Promise((resolve) => child.on('exit', resolve)), 'the TLS client');
  const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { code, lines, stderr: err };
}

test('the SDK speaks MCP to the hub over HTTPS when it trusts the certificate', async (t) => {
  const ws = workspace(t);
  const tls = selfSigned(path.join(ws.root, '.e2e-certs'));
  const hub = await startTlsHub(ws, tls);

  const r = await runClient(ws, hub, { NODE_EXTRA_CA_CERTS: tls.cert });
  assert.equal(r.code, 0, `client failed: ${JSON.stringify(r.lines.filter((l) => l.dir === 'error'))}\n${r.stderr}`);
  const validator = ws.validator('tls-client');
  for (const l of r.lines) {
    if (l.dir === 'out') validator.noteOutgoing(l.msg);
    else if (l.dir === 'in') validator.check(l.msg);
  }
  assert.deepEqual(r.lines.filter((l) => l.dir === 'transport-error'), []);
  const init = r.lines.find((l) => l.dir === 'in' && l.msg.id !== undefined && l.msg.result?.serverInfo);
  assert.ok(init, 'an initialize result arrived');
  const result = r.lines.find((l) => l.dir === 'result');
  assert.ok(result.sessionId, 'the hub gave an MCP-Session-Id');
  assert.equal(result.lock.success, true);
  assert.equal(result.lock.file, 'src/tls.c');
  assert.deepEqual(result.list.locks.map((l) => l.file), ['src/tls.c']);
});

test('without trusting the certificate the SDK refuses to connect', async (t) => {
  const ws = workspace(t);
  const tls = selfSigned(path.join(ws.root, '.e2e-certs'));
  const hub = await startTlsHub(ws, tls);
  const r = await runClient(ws, hub, {});
  assert.equal(r.code, 1);
  const e = r.lines.find((l) => l.dir === 'error');
  assert.match(e.message, /SELF_SIGNED|self[- ]signed|certificate/i);
  assert.equal(r.lines.some((l) => l.dir === 'in'), false, 'nothing was received');
});
