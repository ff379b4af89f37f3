// Building elements from data without innerHTML: every value from the server or the user lands as text, so a user
// id or a tool result can never become markup.

/** el('td', {class: 'x', dataset: {label: 'User'}}, 'text', child) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (name === 'class') {
      node.className = value;
    } else if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

/** A <dl>'s content from [term, value] pairs. */
export function fields(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value ?? '—')]));
}

/** "3 min ago", with the exact time for a tooltip. */
export function ago(iso) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) {
    return el('span', {}, '—');
  }
  const seconds = Math.max(0, Math.round((Date.now() - then) / 1000));
  let text;
  if (seconds < 60) {
    text = `${seconds} s ago`;
  } else if (seconds < 3600) {
    text = `${Math.floor(seconds / 60)} min ago`;
  } else if (seconds < 86400) {
    text = `${Math.floor(seconds / 3600)} h ago`;
  } else {
    text = `${Math.floor(seconds / 86400)} d ago`;
  }
  return el('time', { datetime: iso, title: new Date(then).toLocaleString() }, text);
}

export function setStatus(node, text, kind = '') {
  node.textContent = text;
  node.className = `status ${kind}`.trim();
}
