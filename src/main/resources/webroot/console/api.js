// Calls to the server's own API (same origin only: the Content-Security-Policy allows nothing else). Every failure
// becomes an ApiError carrying the server's error code and message, so the page can show them as they are.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** "Session_Not_Found (404): Session not found", the form every view shows errors in. */
  describe() {
    return `${this.code}${this.status ? ` (${this.status})` : ''}: ${this.message}`;
  }
}

/**
 * The API's address for a path like '/chat': relative to the console's own folder ('/console/' → '/'), so that the
 * page also works behind a proxy that serves the server under a path prefix.
 */
export function url(path) {
  return new URL(`../${path.replace(/^\/+/, '')}`, document.baseURI).href;
}

/** A fetch that never caches and turns a network failure into an ApiError. */
async function send(path, { method = 'GET', token, body, accept = 'application/json', signal } = {}) {
  const headers = { Accept: accept };
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  try {
    return await fetch(url(path), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') {
      throw err;
    }
    // A streamed turn's headers come with its first step: a POST that fails here may have reached the server.
    throw new ApiError(0, 'Network_Error', method === 'GET' ? `The server could not be reached (${err.message})`
      : `No answer came (${err.message}): the server is unreachable or went away mid-request, which may still `
        + 'complete there.');
  }
}

/** The error JSON of a failed answer ({error, message}), or a plain description when it has none. */
async function failure(response) {
  let json = null;
  try {
    json = await response.json();
  } catch {
    // Not JSON: a proxy's page, say. The status says enough.
  }
  const code = json && typeof json.error === 'string' ? json.error : 'HTTP_Error';
  const message = json && typeof json.message === 'string' ? json.message : response.statusText || 'Request failed';
  return new ApiError(response.status, code, message);
}

/** JSON from the API; 204 gives null; anything else not 2xx throws an ApiError. */
export async function json(path, options) {
  const response = await send(path, options);
  if (!response.ok) {
    throw await failure(response);
  }
  return response.status === 204 ? null : response.json();
}

/**
 * A streamed /chat turn: calls onEvent(name, data) for each SSE event as it arrives and resolves when the stream
 * ends. A refusal before the stream starts (a 4xx or 5xx with a JSON body) throws an ApiError.
 */
export async function stream(path, options, onEvent) {
  const response = await send(path, { ...options, accept: 'text/event-stream' });
  if (!response.ok) {
    throw await failure(response);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (err) {
      if (err.name === 'AbortError') {
        throw err;
      }
      throw new ApiError(0, 'Network_Error', `The connection broke mid-turn (${err.message}); the turn may still `
        + 'complete on the server.');
    }
    const { value, done } = chunk;
    if (done) {
      break;
    }
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
  if (buffer.trim()) {
    dispatch(buffer, onEvent);
  }
}

function dispatch(block, onEvent) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) {
      name = line.slice(6).trim();
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    }
  }
  if (data.length === 0) {
    return;
  }
  let parsed;
  try {
    parsed = JSON.parse(data.join('\n'));
  } catch {
    parsed = { text: data.join('\n') };
  }
  onEvent(name, parsed);
}
