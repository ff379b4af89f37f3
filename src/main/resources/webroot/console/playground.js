// The chat playground: one conversation with the server's /chat, streamed. Each step shows as it arrives: tool
// calls with their arguments, tool results (collapsed), the answer. The sessionId of the first answer is kept for
// the next turns; "New session" starts over. Tokens and Jira credentials stay in the form fields, never in storage.

import { ApiError, stream } from './api.js';
import { el, setStatus } from './dom.js';

const $ = (id) => document.getElementById(id);

export function startPlayground(settings) {
  const log = $('chat-log');
  const status = $('chat-status');
  // turn: the AbortController of the turn streaming now; "New session" stops it so that its steps cannot land in
  // the new conversation.
  const state = { sessionId: null, busy: false, toolNames: new Map(), turn: null };

  setUpIdentity(settings.authMode);
  const usable = setUpModels(settings);

  function showSession() {
    $('chat-session').textContent = state.sessionId ?? 'new (made by the first message)';
    $('chat-session').dataset.sessionId = state.sessionId ?? '';
  }

  function newSession(message) {
    state.turn?.abort();
    state.sessionId = null;
    state.toolNames.clear();
    log.replaceChildren();
    showSession();
    setStatus(status, message ?? '');
  }

  function step(kind, label, ...content) {
    const item = el('li', { class: `step step-${kind}`, dataset: { kind } }, el('div', { class: 'kind' }, label),
      ...content);
    log.append(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
  }

  function onEvent(name, data) {
    switch (name) {
      case 'tool_call':
        state.toolNames.set(data.id, data.name);
        step('tool-call', 'Tool call', el('code', { class: 'tool' }, data.name),
          el('pre', { class: 'arguments' }, JSON.stringify(data.input ?? {}, null, 2)));
        break;
      case 'tool_result': {
        const tool = state.toolNames.get(data.tool_use_id) ?? 'tool';
        const content = typeof data.content === 'string' ? data.content : JSON.stringify(data.content, null, 2);
        step('tool-result', data.is_error ? 'Tool error' : 'Tool result', el('code', { class: 'tool' }, tool),
          el('details', {}, el('summary', {}, `Show the result (${content.length} characters)`),
            el('pre', {}, content)));
        break;
      }
      case 'text':
        step('text', 'Assistant', el('div', { class: 'body' }, data.text ?? ''));
        break;
      case 'done':
        finish(data);
        break;
      case 'error':
        // A failed turn may still have made the session (the first turn of one): the next turn continues it.
        if (data.sessionId && data.error !== 'Session_Not_Found') {
          state.sessionId = data.sessionId;
          showSession();
        }
        failed(new ApiError(data.status ?? 0, data.error ?? 'Error', data.message ?? 'The turn failed'));
        break;
      default:
        break;
    }
  }

  /** The answer: the last text step becomes it when it says the same, else it is added. */
  function finish(reply) {
    state.sessionId = reply.sessionId ?? state.sessionId;
    showSession();
    const last = log.lastElementChild;
    const answer = reply.response ?? '';
    if (last && last.dataset.kind === 'text' && last.querySelector('.body').textContent === answer) {
      last.className = 'step step-answer';
      last.dataset.kind = 'answer';
      last.querySelector('.kind').textContent = 'Answer';
    } else {
      step('answer', 'Answer', el('div', { class: 'body' }, answer));
    }
    setStatus(status, 'Done.', 'ok');
  }

  function failed(err) {
    let text = err instanceof ApiError ? err.describe() : `Error: ${err.message}`;
    if (err instanceof ApiError && err.code === 'Session_Not_Found' && state.sessionId) {
      // Expired, or deleted by an operator: the next message starts a new session instead of failing again.
      state.sessionId = null;
      showSession();
      text += ' The next message starts a new session.';
    }
    step('error', 'Error', el('div', { class: 'body error-text' }, text));
    setStatus(status, text, 'error');
  }

  function request(message) {
    const body = { message, stream: true, model: $('chat-model').value };
    let token;
    if (settings.authMode === 'jwt') {
      token = $('chat-token').value.trim();
      if (!token) {
        throw new Error('Enter a bearer token first: this server signs users in with JWT access tokens.');
      }
    } else if (settings.authMode === 'none') {
      const userId = $('chat-user').value.trim();
      if (!userId && !state.sessionId) {
        throw new Error('Enter a user id first.');
      }
      if (userId) {
        body.userId = userId;
      }
    }
    if (state.sessionId) {
      body.sessionId = state.sessionId;
    } else {
      // A page's first message starts its own session rather than continuing the user's latest one unseen.
      body.newSession = true;
    }
    const jira = [$('jira-base-url').value.trim(), $('jira-email').value.trim(), $('jira-token').value];
    if (jira.some(Boolean)) {
      if (!jira.every(Boolean)) {
        throw new Error('Fill in all three Jira fields, or none.');
      }
      body.jiraAuth = { baseUrl: jira[0], email: jira[1], apiToken: jira[2] };
    }
    return { body, token };
  }

  async function send(event) {
    event.preventDefault();
    if (state.busy) {
      return;
    }
    const message = $('chat-message').value;
    if (!message.trim()) {
      setStatus(status, 'Type a message first.', 'error');
      $('chat-message').focus();
      return;
    }
    let call;
    try {
      call = request(message);
    } catch (err) {
      setStatus(status, err.message, 'error');
      return;
    }
    state.busy = true;
    $('chat-send').disabled = true;
    step('user', 'You', el('div', { class: 'body' }, message));
    $('chat-message').value = '';
    setStatus(status, 'Working…');
    const turn = new AbortController();
    state.turn = turn;
    let ended = false;
    try {
      await stream('/chat', { method: 'POST', body: call.body, token: call.token, signal: turn.signal },
        (name, data) => {
          if (!turn.signal.aborted) {
            ended = ended || name === 'done' || name === 'error';
            onEvent(name, data);
          }
        });
      if (!ended && !turn.signal.aborted) {
        // The server (or a proxy) went away mid-turn: the turn may still land; the next one continues the session.
        failed(new ApiError(0, 'Stream_Ended', 'The connection closed before the turn finished; it may still '
          + 'complete on the server.'));
      }
    } catch (err) {
      if (!turn.signal.aborted) {
        failed(err);
      }
    } finally {
      if (state.turn === turn) {
        state.turn = null;
      }
      state.busy = false;
      $('chat-send').disabled = !usable;
      $('chat-message').focus();
    }
  }

  $('chat-form').addEventListener('submit', send);
  $('chat-message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      $('chat-form').requestSubmit();
    }
  });
  $('chat-new-session').addEventListener('click', () => {
    newSession('A new session starts with the next message.');
    $('chat-message').focus();
  });
  // A session belongs to its user: another user (or token) continues in a session of their own.
  $('chat-user').addEventListener('change', () => newSession('User changed: a new session starts.'));
  $('chat-token').addEventListener('change', () => newSession('Token changed: a new session starts.'));
  $('chat-setup').addEventListener('submit', (event) => event.preventDefault());
  showSession();
}

function setUpIdentity(mode) {
  $('user-field').hidden = mode !== 'none';
  $('token-field').hidden = mode !== 'jwt';
  const hint = {
    none: 'Anyone may name any user here (AUTH_MODE=none): sessions are kept apart by user id only.',
    jwt: 'This server proves users with JWT access tokens: paste one of yours; it stays in this field only.',
    header: 'Your gateway tells this server who you are; nothing to enter here.',
  }[mode] ?? '';
  $('identity-hint').textContent = hint;
}

function setUpModels(settings) {
  const select = $('chat-model');
  const models = settings.models || [];
  select.replaceChildren(...models.map((m) => el('option', { value: m.id, selected: m.id === settings.defaultModel },
    m.label)));
  const usable = models.length > 0;
  if (!usable) {
    select.append(el('option', { value: '' }, 'No provider configured'));
    select.disabled = true;
    $('chat-send').disabled = true;
    setStatus($('chat-status'), 'No LLM provider is configured on this server: set ANTHROPIC_API_KEY, '
      + 'OPENAI_API_KEY or AWS_REGION with BEDROCK_MODEL_ID.', 'error');
  }
  return usable;
}
