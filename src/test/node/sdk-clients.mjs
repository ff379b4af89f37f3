// The official MCP TypeScript SDK clients against one running server of ours, each as a user of its own (X-User-Id),
// each storing a secret note and reading its notes back: it must see its own secret and never another user's.
//
//   stateless   @modelcontextprotocol/client 2.x, pinned to protocol 2026-07-28 (no initialize: server/discover,
//               then every request with params._meta and the MCP-Protocol-Version / Mcp-Method / Mcp-Name headers),
//               user alice, Streamable HTTP at /mcp
//   streamable  @modelcontextprotocol/sdk 1.x, StreamableHTTPClientTransport (initialize + Mcp-Session-Id), user bob
//   sse         @modelcontextprotocol/sdk 1.x, SSEClientTransport (legacy HTTP+SSE at /mcp/sse), user carol
//   shared      needs SDK_SHARED_URL, a second instance on the same store (STORE=redis): 2.x stateless as user dave
//               stores a note through SDK_URL, then a new 2.x stateless client reads it through SDK_SHARED_URL, which
//               never saw dave before
//
// Environment: SDK_URL (the server, http://127.0.0.1:PORT), SDK_PARTS (comma-separated, "stateless,streamable,sse"),
// SDK_SHARED_URL, SDK_TRACE=1 (log each HTTP request the clients send, headers and body, to stderr),
// SDK_TOKENS (a JSON object user -> bearer token: against AUTH_MODE=jwt each client then sends
// Authorization: Bearer <its user's token> instead of naming its user in X-User-Id).
// Prints one line per part, "PASS <part> ..." or "FAIL <part>: <reason>", and exits 1 when a part failed.
import { Client as ClientV2, StreamableHTTPClientTransport as StreamableV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as StreamableV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';

const STATELESS_VERSION = '2026-07-28';
const BASE = process.env.SDK_URL;
const SHARED = process.env.SDK_SHARED_URL;
const PARTS = (process.env.SDK_PARTS || 'stateless,streamable,sse').split(',').map((p) => p.trim()).filter(Boolean);
const TRACE = process.env.SDK_TRACE === '1';
const TIMEOUT_MS = 20000;
const NOTE_KEY = 'secret';
const USERS = { stateless: 'alice', streamable: 'bob', sse: 'carol', shared: 'dave' };
const secretOf = (user) => `${user} secret`;

if (!BASE) {
  console.error('SDK_URL is required (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}

function tracingFetch(label) {
  return async (url, init = {}) => {
    if (TRACE) {
      const headers = Object.fromEntries(new Headers(init.headers || {}).entries());
      const body = typeof init.body === 'string' ? init.body : '';
      console.error(`[trace ${label}] ${init.method || 'GET'} ${url} ${JSON.stringify(headers)} ${body}`);
    }
    const response = await fetch(url, init);
    if (TRACE) {
      console.error(`[trace ${label}]   -> ${response.status} ${response.headers.get('content-type') || ''}`);
    }
    return response;
  };
}

const TOKENS = process.env.SDK_TOKENS ? JSON.parse(process.env.SDK_TOKENS) : {};
const headersFor = (user) => ({
  headers: TOKENS[user] ? { Authorization: `Bearer ${TOKENS[user]}` } : { 'X-User-Id': user },
});
const info = (part) => ({ name: `mcps-sdk-${part}`, version: '1.0.0' });

/** A connected 2.x client in the stateless era at exactly 2026-07-28, as user, against base. */
async function statelessClient(part, user, base) {
  const client = new ClientV2(info(part), { versionNegotiation: { mode: { pin: STATELESS_VERSION } } });
  const transport = new StreamableV2(new URL('/mcp', base), { requestInit: headersFor(user), fetch: tracingFetch(part) });
  await client.connect(transport, { timeout: TIMEOUT_MS });
  const era = client.getProtocolEra();
  const version = client.getNegotiatedProtocolVersion();
  if (era !== 'modern' || version !== STATELESS_VERSION) {
    throw new Error(`the 2.x client negotiated era ${era}, version ${version}; expected modern ${STATELESS_VERSION}`);
  }
  return client;
}

const connectors = {
  stateless: (user) => statelessClient('stateless', user, BASE),
  streamable: async (user) => {
    const client = new ClientV1(info('streamable'));
    const transport = new StreamableV1(new URL('/mcp', BASE), { requestInit: headersFor(user), fetch: tracingFetch('streamable') });
    await client.connect(transport, { timeout: TIMEOUT_MS });
    return client;
  },
  sse: async (user) => {
    const client = new ClientV1(info('sse'));
    const transport = new SSEClientTransport(new URL('/mcp/sse', BASE), { requestInit: headersFor(user), fetch: tracingFetch('sse') });
    await client.connect(transport, { timeout: TIMEOUT_MS });
    return client;
  },
};

/** The tool's text and structured content, as one string; throws when the call failed. */
async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: TIMEOUT_MS });
  const text = (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
  const all = text + (result.structuredContent ? ` ${JSON.stringify(result.structuredContent)}` : '');
  if (result.isError) {
    throw new Error(`${name} answered isError: ${all}`);
  }
  return all;
}

/** Fails unless notes shows user's secret and none of the other users'. */
function checkOwnNotesOnly(user, notes, where) {
  if (!notes.includes(secretOf(user))) {
    throw new Error(`${where}: notes_get for ${user} lacks "${secretOf(user)}": ${notes}`);
  }
  for (const other of Object.values(USERS)) {
    if (other !== user && notes.includes(secretOf(other))) {
      throw new Error(`${where}: notes_get for ${user} shows ${other}'s note: ${notes}`);
    }
  }
}

const errorText = (e) => (e && e.stack ? String(e.stack).split('\n').slice(0, 3).join(' | ') : String(e));

async function main() {
  const failures = {};
  const clients = {};
  const lines = [];
  const runnable = PARTS.filter((p) => p !== 'shared');
  for (const part of PARTS) {
    if (!USERS[part]) {
      console.error(`unknown part ${part}; the parts are ${Object.keys(USERS).join(', ')}`);
      process.exit(2);
    }
  }
  // First every user stores their secret, then every user reads their notes back: a read sees the others' writes.
  for (const part of runnable) {
    const user = USERS[part];
    try {
      clients[part] = await connectors[part](user);
      await call(clients[part], 'notes_set', { key: NOTE_KEY, value: secretOf(user) });
    } catch (e) {
      failures[part] = `${user}: connect or notes_set failed: ${errorText(e)}`;
    }
  }
  for (const part of runnable) {
    if (failures[part]) {
      continue;
    }
    const user = USERS[part];
    try {
      const notes = await call(clients[part], 'notes_get', {});
      checkOwnNotesOnly(user, notes, part);
      lines.push(`PASS ${part} (user ${user}): notes_get -> ${notes}`);
    } catch (e) {
      failures[part] = `${user}: ${errorText(e)}`;
    }
  }
  if (PARTS.includes('shared')) {
    const user = USERS.shared;
    try {
      if (!SHARED) {
        throw new Error('SDK_SHARED_URL is not set');
      }
      const writer = await statelessClient('shared-writer', user, BASE);
      await call(writer, 'notes_set', { key: NOTE_KEY, value: secretOf(user) });
      await writer.close();
      const reader = await statelessClient('shared-reader', user, SHARED);
      const notes = await call(reader, 'notes_get', {});
      await reader.close();
      checkOwnNotesOnly(user, notes, 'shared');
      lines.push(`PASS shared (user ${user}): stored through ${BASE}, notes_get through ${SHARED} -> ${notes}`);
    } catch (e) {
      failures.shared = `${user}: ${errorText(e)}`;
    }
  }
  for (const client of Object.values(clients)) {
    await client.close().catch(() => {});
  }
  for (const line of lines) {
    console.log(line);
  }
  for (const [part, reason] of Object.entries(failures)) {
    console.log(`FAIL ${part}: ${reason}`);
  }
  process.exit(Object.keys(failures).length > 0 ? 1 : 0);
}

main().catch((e) => {
  console.log(`FAIL sdk-clients: ${errorText(e)}`);
  process.exit(1);
});
