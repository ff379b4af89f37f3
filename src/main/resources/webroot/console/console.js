// The console's entry: loads what the server offers (/console/config.json), then the two views. No inline script
// anywhere (the Content-Security-Policy forbids it) and no request to another origin.

import { startOperator } from './operator.js';
import { startPlayground } from './playground.js';

const views = ['operator', 'playground'];

function show(name) {
  const current = views.includes(name) ? name : 'operator';
  for (const view of views) {
    document.getElementById(view).hidden = view !== current;
    document.getElementById(`show-${view}`).setAttribute('aria-pressed', String(view === current));
  }
  return current;
}

let visible = show(location.hash.slice(1));
for (const view of views) {
  document.getElementById(`show-${view}`).addEventListener('click', () => {
    visible = show(view);
    // The hash names the view (never a token), so a reload or a link opens the same one.
    history.replaceState(null, '', `#${view}`);
    document.getElementById(`${view}-title`).focus({ preventScroll: true });
  });
}
window.addEventListener('hashchange', () => {
  visible = show(location.hash.slice(1));
});

async function settings() {
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (response.ok) {
      return await response.json();
    }
  } catch {
    // Shown below: the views still work with what they can reach.
  }
  return { authMode: 'none', admin: true, models: [], defaultModel: null, unavailable: true };
}

const config = await settings();
document.body.dataset.authMode = config.authMode;
startOperator(config, () => visible === 'operator');
startPlayground(config);
document.body.dataset.ready = 'true';
