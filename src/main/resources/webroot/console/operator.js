// The operator view: health for everyone; with the admin token, live sessions (refreshed every 5 s), a session's
// detail, reset and delete behind a confirmation, cleanup, and the activity chart. The token lives in
// sessionStorage only (gone with the tab) and travels only in the Authorization header, never in a URL.

import { ApiError, json, url } from './api.js';
import { drawActivity } from './chart.js';
import { ago, el, fields, setStatus } from './dom.js';

const TOKEN_KEY = 'mcps.adminToken';
const REFRESH_MS = 5000;

const $ = (id) => document.getElementById(id);

export function startOperator(settings, isVisible) {
  const status = $('operator-status');
  const panels = $('operator-panels');
  const login = $('admin-login');
  // The last /admin/stats answer, redrawn on resize and on a light/dark switch.
  let latest = { minutes: [] };
  let timer = null;

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  async function health() {
    try {
      // A degraded server answers 503 with the same JSON: show it rather than an error.
      const response = await fetch(url('/health'), { cache: 'no-store' });
      showHealth(await response.json());
    } catch (err) {
      fields($('health'), [['Status', `unreachable (${err.message})`]]);
    }
  }

  function showHealth(h) {
    if (!h) {
      return;
    }
    const cluster = h.cluster || {};
    fields($('health'), [
      ['Status', h.status],
      ['Store', `${h.store?.type ?? '?'} (${h.store?.status ?? '?'})`],
      ['Cluster', cluster.enabled ? `${cluster.members} members (this one: ${cluster.nodeId ?? '?'})`
        : 'single instance'],
      ['Uptime', h.uptime],
      ['Active sessions', h.activeSessions ?? '—'],
      ['Version', h.version],
    ]);
    $('health').dataset.status = h.status;
  }

  function signedIn(yes) {
    panels.hidden = !yes;
    login.hidden = yes;
    if (!yes) {
      $('sessions-body').replaceChildren();
      $('session-detail').hidden = true;
    }
  }

  function signOut(message, kind = '') {
    sessionStorage.removeItem(TOKEN_KEY);
    signedIn(false);
    setStatus(status, message, kind);
    $('admin-token').value = '';
  }

  /** An admin call; a refused token signs the page out instead of failing every 5 s. */
  async function admin(path, options = {}) {
    try {
      return await json(path, { ...options, token: token() });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        signOut(`The admin token was refused (${err.describe()}). Sign in again.`, 'error');
      }
      throw err;
    }
  }

  let refreshing = null;
  let refreshFailed = false;

  /** One refresh at a time: with a slow store, the 5 s timer must not pile requests up behind it. */
  function refresh() {
    if (!refreshing) {
      refreshing = load().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** After an action: a refresh that starts after it, not one already in flight from before it. */
  function reload() {
    return (refreshing ?? Promise.resolve()).then(() => refresh());
  }

  async function load() {
    await health();
    if (!token()) {
      return;
    }
    try {
      const [list, stats] = await Promise.all([
        admin(sessionsPath()),
        admin('/admin/stats?minutes=30').catch((err) => ({ failed: err })),
      ]);
      showSessions(list);
      if (stats.failed) {
        $('activity-summary').textContent = `Stats unavailable: ${stats.failed.describe?.() ?? stats.failed.message}`;
      } else {
        latest = stats;
        showActivity(stats);
      }
      if (refreshFailed) {
        refreshFailed = false;
        setStatus(status, 'Sessions are up to date again.', 'ok');
      }
    } catch (err) {
      if (token()) {
        refreshFailed = true;
        setStatus(status, `Refresh failed: ${err.describe ? err.describe() : err.message}`, 'error');
      }
    }
  }

  function showActivity(stats) {
    const minutes = stats.minutes || [];
    const current = minutes.length ? minutes[minutes.length - 1].turns : 0;
    const total = minutes.reduce((sum, m) => sum + m.turns, 0);
    const failed = minutes.reduce((sum, m) => sum + (m.failed || 0), 0);
    const sampled = minutes.filter((m) => m.activeSessions != null).map((m) => m.activeSessions);
    const peak = sampled.length ? ` (peak ${Math.max(...sampled)} in ${minutes.length} minutes)` : '';
    const text = `${plural(stats.activeSessions, 'active session')}${peak} · ${plural(current, 'turn')} this minute · `
      + `${total} in the last ${minutes.length} minutes${failed ? ` (${failed} failed)` : ''}`;
    $('activity-summary').textContent = text;
    $('activity-chart').setAttribute('aria-label', `Activity chart: ${text}`);
    drawActivity($('activity-chart'), stats);
  }

  let lastList = { totalCount: 0, sessions: [] };

  /**
   * The 200 most recently used sessions, or with a filter the server's search of the whole store (user or session
   * id containing it), so that a session far down the list is found too.
   */
  function sessionsPath() {
    const filter = $('sessions-filter').value.trim();
    return filter ? `/admin/sessions?limit=200&q=${encodeURIComponent(filter)}` : '/admin/sessions?limit=200';
  }

  let searchTimer = null;

  /** Typing filters what the page has at once, then asks the server once the typing pauses. */
  function filterChanged() {
    showSessions(lastList);
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => reload(), 300);
  }

  function showSessions(list) {
    lastList = list;
    const filter = $('sessions-filter').value.trim().toLowerCase();
    const all = list.sessions || [];
    // The answer may be for an older filter (or none): narrowed here to what the box says now.
    const sessions = filter ? all.filter((s) => `${s.userId ?? ''} ${s.sessionId}`.toLowerCase().includes(filter))
      : all;
    const searched = list.query !== undefined;
    $('sessions-count').textContent = searched
      ? `(${sessions.length} found among ${list.totalCount}${list.complete ? '' : ', the first ones'})`
      : `(${list.totalCount}${list.totalCount > sessions.length ? `, showing ${sessions.length}` : ''})`;
    const rows = sessions.map((s) => el('tr', { dataset: { sessionId: s.sessionId } },
      el('td', { dataset: { label: 'User' } }, s.userId ?? el('em', {}, 'anonymous')),
      el('td', { dataset: { label: 'Session' }, class: 'mono', title: s.sessionId }, short(s.sessionId)),
      el('td', { dataset: { label: 'Created' } }, ago(s.createdAt)),
      el('td', { dataset: { label: 'Last access' } }, ago(s.lastAccessTime)),
      el('td', { dataset: { label: 'History' } }, `${s.historyLength} messages`),
      el('td', { dataset: { label: 'Jira' } }, s.hasJiraCredentials ? 'credentials' : 'none'),
      el('td', { dataset: { label: 'MCP' } }, s.hasMcpConnection ? 'connected' : '—'),
      el('td', { class: 'actions' },
        el('button', { type: 'button', class: 'detail', 'aria-label': `Details of session ${short(s.sessionId)}`,
          onclick: () => detail(s.sessionId) }, 'Details'),
        el('button', { type: 'button', class: 'reset', 'aria-label': `Reset session ${short(s.sessionId)}`,
          onclick: () => reset(s) }, 'Reset'),
        el('button', { type: 'button', class: 'delete danger', 'aria-label': `Delete session ${short(s.sessionId)}`,
          onclick: () => remove(s) }, 'Delete'))));
    if (rows.length === 0) {
      rows.push(el('tr', {}, el('td', { colspan: 8 }, filter ? 'No session matches the filter.'
        : 'No live sessions.')));
    }
    $('sessions-body').replaceChildren(...rows);
  }

  async function detail(sessionId) {
    try {
      const d = await admin(`/admin/sessions/${encodeURIComponent(sessionId)}`);
      fields($('detail-fields'), [
        ['Session', el('span', { class: 'mono' }, d.sessionId)],
        ['User', d.userId ?? 'anonymous'],
        ['Product lab user', d.productLabUserId],
        ['Created', `${d.createdAt}`],
        ['Last access', `${d.lastAccessTime}`],
        ['History', `${d.historyLength} messages`],
        ['Jira credentials', d.hasJiraCredentials ? 'stored (never shown)' : 'none'],
        ['MCP connection', d.hasMcpConnection ? 'open' : 'none'],
        ['Anthropic conversation', d.anthropicConversationId],
      ]);
      const section = $('session-detail');
      section.hidden = false;
      section.dataset.sessionId = d.sessionId;
      section.focus();
    } catch (err) {
      setStatus(status, `Could not read session ${short(sessionId)}: ${err.describe ? err.describe() : err.message}`,
        'error');
    }
  }

  async function reset(s) {
    if (!(await confirmed(`Reset session ${short(s.sessionId)}?`,
      `Its conversation history (${s.historyLength} messages) and notes are cleared; the session and its `
      + 'Jira credentials stay.',
      'Reset'))) {
      return;
    }
    try {
      const answer = await admin(`/admin/sessions/${encodeURIComponent(s.sessionId)}/reset`, { method: 'POST' });
      setStatus(status, answer.message || `Session ${short(s.sessionId)} was reset.`, 'ok');
    } catch (err) {
      setStatus(status, `Reset failed: ${err.describe ? err.describe() : err.message}`, 'error');
    }
    await reload();
  }

  async function remove(s) {
    if (!(await confirmed(`Delete session ${short(s.sessionId)}?`,
      `The session of ${s.userId ?? 'an anonymous user'}, its history and its credentials are deleted, and its MCP `
      + 'connections closed. This cannot be undone.', 'Delete'))) {
      return;
    }
    try {
      await admin(`/admin/sessions/${encodeURIComponent(s.sessionId)}`, { method: 'DELETE' });
      setStatus(status, `Session ${short(s.sessionId)} was deleted.`, 'ok');
      if ($('session-detail').dataset.sessionId === s.sessionId) {
        $('session-detail').hidden = true;
      }
    } catch (err) {
      setStatus(status, `Delete failed: ${err.describe ? err.describe() : err.message}`, 'error');
    }
    await reload();
  }

  async function cleanup() {
    try {
      const r = await admin('/admin/sessions/cleanup', { method: 'POST' });
      setStatus(status, `Cleanup removed ${r.removed} expired sessions (${r.beforeCount} → ${r.afterCount}).`, 'ok');
    } catch (err) {
      setStatus(status, `Cleanup failed: ${err.describe ? err.describe() : err.message}`, 'error');
    }
    await reload();
  }

  function schedule() {
    clearInterval(timer);
    timer = null;
    if ($('auto-refresh').checked) {
      timer = setInterval(() => {
        if (isVisible() && !document.hidden) {
          refresh();
        }
      }, REFRESH_MS);
    }
  }

  login.addEventListener('submit', async (event) => {
    event.preventDefault();
    const candidate = $('admin-token').value;
    try {
      await json('/admin/sessions?limit=1', { token: candidate });
    } catch (err) {
      const why = err instanceof ApiError && err.status === 401
        ? `Wrong admin token: the server refused it (${err.describe()}).`
        : `Sign-in failed: ${err.describe ? err.describe() : err.message}`;
      setStatus(status, why, 'error');
      $('admin-token').focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, candidate);
    $('admin-token').value = '';
    signedIn(true);
    setStatus(status, 'Signed in.', 'ok');
    await reload();
  });
  $('admin-signout').addEventListener('click', () => signOut('Signed out.'));
  $('sessions-refresh').addEventListener('click', () => refresh());
  $('sessions-cleanup').addEventListener('click', () => cleanup());
  $('auto-refresh').addEventListener('change', schedule);
  $('sessions-filter').addEventListener('input', filterChanged);
  $('detail-close').addEventListener('click', () => {
    $('session-detail').hidden = true;
  });
  window.addEventListener('resize', () => drawActivity($('activity-chart'), latest));
  window.matchMedia('(prefers-color-scheme: dark)')
    .addEventListener('change', () => drawActivity($('activity-chart'), latest));

  if (!settings.admin) {
    setStatus(status, 'The admin API is off on this server: set ADMIN_TOKEN to see sessions here.');
    login.querySelectorAll('input, button').forEach((n) => { n.disabled = true; });
  }
  signedIn(Boolean(token()));
  schedule();
  refresh();
  return { refresh };
}

function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function short(id) {
  return id && id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** The confirmation dialog; resolves true only when the operator chose the confirming button. */
function confirmed(title, text, action) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = action;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
  });
}
