// schema — validates every message a server emits against the official MCP
// JSON Schema of the session's protocol revision.
//
// A MessageValidator belongs to one session (one connection). It learns the
// method of every request the client sends (noteOutgoing) so it can check a
// response's result against the result type of the method it answers, and it
// checks notifications and server requests by method. Violations are
// collected (never thrown) so a test can report all of them at once.
//
// Tool results are also checked against the tool's outputSchema, learnt from
// any tools/list result seen by any validator sharing the same ToolSchemas.
//
// One documented exception to the official schema: an error response to a
// message whose id could not be read (-32700 parse error, -32600 invalid
// request) may carry `"id": null`, as JSON-RPC 2.0 §5 requires. The
// 2025-11-25 schema expresses "no id" by omitting it and the 2025-06-18 one
// cannot express it at all, so both forms are accepted for those two codes
// and the rest of the envelope is still checked.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const schemaDir = process.env.MCP_SCHEMA_DIR || path.join(here, '..', 'schema');

export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];
export const LATEST_VERSION = SUPPORTED_VERSIONS[0];

// Result type of each client request method.
const RESULT_DEFS = {
  initialize: 'InitializeResult',
  ping: 'EmptyResult',
  'tools/list': 'ListToolsResult',
  'tools/call': 'CallToolResult',
  'resources/list': 'ListResourcesResult',
  'resources/templates/list': 'ListResourceTemplatesResult',
  'resources/read': 'ReadResourceResult',
  'resources/subscribe': 'EmptyResult',
  'resources/unsubscribe': 'EmptyResult',
  'prompts/list': 'ListPromptsResult',
  'prompts/get': 'GetPromptResult',
  'logging/setLevel': 'EmptyResult',
  'completion/complete': 'CompleteResult',
};

// Definition of each server notification method.
const NOTIFICATION_DEFS = {
  'notifications/message': 'LoggingMessageNotification',
  'notifications/resources/updated': 'ResourceUpdatedNotification',
  'notifications/resources/list_changed': 'ResourceListChangedNotification',
  'notifications/tools/list_changed': 'ToolListChangedNotification',
  'notifications/prompts/list_changed': 'PromptListChangedNotification',
  'notifications/progress': 'ProgressNotification',
  'notifications/cancelled': 'CancelledNotification',
};

// Per revision: where the definitions live and the envelope names.
const REVISIONS = {
  '2025-11-25': {
    file: '2025-11-25',
    prefix: 'mcp#/$defs/',
    result: 'JSONRPCResultResponse',
    error: 'JSONRPCErrorResponse',
    make: () => new Ajv2020({ strict: false, allErrors: true }),
  },
  '2025-06-18': {
    file: '2025-06-18',
    prefix: 'mcp#/definitions/',
    result: 'JSONRPCResponse',
    error: 'JSONRPCError',
    make: () => new Ajv({ strict: false, allErrors: true }),
  },
};
REVISIONS['2025-03-26'] = REVISIONS['2025-06-18'];

const compiled = new Map(); // revision file -> {ajv, rev}

function revisionFor(version) {
  const rev = REVISIONS[version] || REVISIONS[LATEST_VERSION];
  let entry = compiled.get(rev.file);
  if (!entry) {
    const ajv = rev.make();
    addFormats(ajv);
    const schema = JSON.parse(readFileSync(path.join(schemaDir, rev.file, 'schema.json'), 'utf8'));
    ajv.addSchema(schema, 'mcp');
    entry = { ajv, rev, cache: new Map() };
    compiled.set(rev.file, entry);
  }
  return entry;
}

function defValidator(version, def) {
  const entry = revisionFor(version);
  let fn = entry.cache.get(def);
  if (!fn) {
    fn = entry.ajv.getSchema(entry.rev.prefix + def);
    if (!fn) throw new Error(`schema ${entry.rev.file} has no definition ${def}`);
    entry.cache.set(def, fn);
  }
  return fn;
}

/** Validate value against definition def of revision version; returns null
 * or a readable error string. */
export function checkDef(version, def, value) {
  const fn = defValidator(version, def);
  if (fn(value)) return null;
  return `${def} (${REVISIONS[version] ? version : LATEST_VERSION}): ` +
    fn.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
      (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '')).join('; ');
}

function idKey(id) {
  return typeof id + ':' + String(id);
}

function short(v, n = 400) {
  let s;
  try {
    s = typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > n ? s.slice(0, n) + `…(${s.length} chars)` : s;
}

/** Compiled outputSchema/inputSchema per tool name, shared by every session
 * of a workspace (all talk to the same hub binary). */
export class ToolSchemas {
  constructor() {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv07 = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv07);
    this.output = new Map(); // name -> validate fn
    this.tools = new Map(); // name -> Tool object
    this.errors = [];
  }

  compile(schema) {
    const draft07 = typeof schema.$schema === 'string' && schema.$schema.includes('draft-07');
    return (draft07 ? this.ajv07 : this.ajv).compile(schema);
  }

  /** Learn the tools of a tools/list result; returns compile errors. */
  learn(tools) {
    const errs = [];
    for (const tool of tools || []) {
      this.tools.set(tool.name, tool);
      for (const kind of ['inputSchema', 'outputSchema']) {
        if (!tool[kind]) continue;
        try {
          const fn = this.compile(tool[kind]);
          if (kind === 'outputSchema') this.output.set(tool.name, fn);
        } catch (e) {
          errs.push(`tool ${tool.name}: ${kind} does not compile: ${e.message}`);
        }
      }
    }
    return errs;
  }
}

/**
 * Validates the messages of one session.
 *   label         — names the session in violation messages
 *   violations    — array shared with the owner (pushed to)
 *   toolSchemas   — ToolSchemas shared by the workspace
 */
export class MessageValidator {
  constructor({ label, violations, toolSchemas }) {
    this.label = label;
    this.violations = violations;
    this.toolSchemas = toolSchemas || new ToolSchemas();
    this.version = null; // negotiated revision
    this.requested = LATEST_VERSION; // revision the client asked for
    this.pending = new Map(); // idKey -> {method, params}
    this.cancelled = new Set(); // idKeys the client cancelled
    this.answered = new Set();
    this.count = 0;
  }

  get activeVersion() {
    return this.version || this.requested;
  }

  violation(what, msg) {
    this.violations.push(`[${this.label}] ${what}${msg === undefined ? '' : ' — message: ' + short(msg)}`);
  }

  /** Record a message the client sends. */
  noteOutgoing(msg) {
    if (!msg || typeof msg !== 'object') return;
    if ('method' in msg && 'id' in msg) {
      this.pending.set(idKey(msg.id), { method: msg.method, params: msg.params });
      if (msg.method === 'initialize' && msg.params && typeof msg.params.protocolVersion === 'string') {
        this.requested = msg.params.protocolVersion;
      }
    } else if (msg.method === 'notifications/cancelled' && msg.params && 'requestId' in msg.params) {
      const k = idKey(msg.params.requestId);
      if (this.pending.has(k)) this.cancelled.add(k);
    }
  }

  /** Check one raw line (without its newline) received from the server. */
  checkLine(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.violation(`line is not JSON (${e.message})`, line);
      return undefined;
    }
    this.check(msg);
    return msg;
  }

  /** Check one parsed message received from the server. */
  check(msg) {
    this.count++;
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      this.violation('message is not a JSON object', msg);
      return;
    }
    const v = this.activeVersion;
    if ('method' in msg) {
      if ('id' in msg) {
        this.expect(v, 'JSONRPCRequest', msg, msg);
        // Whole: from 2025-11-25 each ServerRequest member is a JSONRPCRequest.
        this.expect(v, 'ServerRequest', msg, msg);
      } else {
        this.expect(v, 'JSONRPCNotification', msg, msg);
        this.expect(v, NOTIFICATION_DEFS[msg.method] || 'ServerNotification', msg, msg);
      }
      return;
    }
    if ('result' in msg && !('error' in msg)) {
      this.checkResult(msg);
      return;
    }
    if ('error' in msg && !('result' in msg)) {
      this.checkError(msg);
      return;
    }
    this.violation('message is neither request, notification, result nor error', msg);
  }

  expect(version, def, value, whole) {
    const err = checkDef(version, def, value);
    if (err) this.violation(`schema: ${err}`, whole);
    return !err;
  }

  take(msg) {
    const k = idKey(msg.id);
    const req = this.pending.get(k);
    if (!req) {
      if (this.answered.has(k)) this.violation('second response to the same request id', msg);
      else this.violation('response to an id the client never sent', msg);
      return null;
    }
    this.pending.delete(k);
    this.answered.add(k);
    if (this.cancelled.has(k)) {
      this.violation(`response to request ${msg.id} (${req.method}) after the client cancelled it`, msg);
    }
    return req;
  }

  checkResult(msg) {
    const req = this.take(msg);
    let v = this.activeVersion;
    if (req && req.method === 'initialize' && msg.result && typeof msg.result.protocolVersion === 'string') {
      if (SUPPORTED_VERSIONS.includes(msg.result.protocolVersion)) {
        this.version = msg.result.protocolVersion;
        v = this.version;
      } else {
        this.violation(`initialize answered unsupported protocolVersion ${msg.result.protocolVersion}`, msg);
      }
    }
    this.expect(v, REVISIONS[v] ? REVISIONS[v].result : REVISIONS[LATEST_VERSION].result, msg, msg);
    if (!req) return;
    const def = RESULT_DEFS[req.method] || 'Result';
    if (!this.expect(v, def, msg.result, msg)) return;
    if (req.method === 'tools/list') {
      for (const e of this.toolSchemas.learn(msg.result.tools)) this.violation(e);
    } else if (req.method === 'tools/call') {
      this.checkToolResult(req.params && req.params.name, msg.result, msg);
    }
  }

  checkToolResult(name, result, msg) {
    // docs/tools.md, "Calling a tool": structuredContent plus the same JSON
    // as text.
    if (result.structuredContent !== undefined) {
      const text = result.content && result.content[0] && result.content[0].type === 'text' ? result.content[0].text : undefined;
      let parsed;
      try {
        parsed = text === undefined ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (!isDeepStrictEqual(parsed, result.structuredContent)) {
        this.violation(`tools/call ${name}: content[0].text is not the JSON of structuredContent`, msg);
      }
    } else if (!result.isError) {
      this.violation(`tools/call ${name}: result has no structuredContent`, msg);
    }
    if (result.isError) return;
    const fn = this.toolSchemas.output.get(name);
    if (fn && !fn(result.structuredContent)) {
      this.violation(`tools/call ${name}: structuredContent does not match the tool's outputSchema: ` +
        fn.errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; '), msg);
    }
  }

  checkError(msg) {
    const v = this.activeVersion;
    const code = msg.error && msg.error.code;
    const idless = !('id' in msg) || msg.id === null;
    if (idless) {
      if (code !== -32700 && code !== -32600) {
        this.violation(`error response without an id has code ${code} (only -32700/-32600 may lack one)`, msg);
      }
      // Check the rest of the envelope with the official definition by
      // standing a valid id in for the missing one.
      const errDef = REVISIONS[v] ? REVISIONS[v].error : REVISIONS[LATEST_VERSION].error;
      this.expect(v, errDef, { ...msg, id: 0 }, msg);
      return;
    }
    this.expect(v, REVISIONS[v] ? REVISIONS[v].error : REVISIONS[LATEST_VERSION].error, msg, msg);
    this.take(msg);
  }
}
