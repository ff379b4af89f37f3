// The console's behaviour: no inline script anywhere (the Content-Security-Policy forbids it), no request to another
// origin. The admin token is kept in sessionStorage only: never in a URL, gone with the tab.
const views = { operator: document.getElementById('operator'), playground: document.getElementById('playground') };

function show(name) {
  for (const [key, view] of Object.entries(views)) {
    view.hidden = key !== name;
  }
}

document.getElementById('show-operator').addEventListener('click', () => show('operator'));
document.getElementById('show-playground').addEventListener('click', () => show('playground'));

const status = document.getElementById('operator-status');
document.getElementById('admin-login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = document.getElementById('admin-token').value;
  const answer = await fetch('/admin/sessions?limit=1', { headers: { Authorization: `Bearer ${token}` } });
  if (answer.ok) {
    sessionStorage.setItem('mcps.adminToken', token);
    status.textContent = 'Signed in.';
  } else {
    const body = await answer.json().catch(() => ({}));
    status.textContent = `Refused (${answer.status} ${body.error || ''}): ${body.message || 'the admin token is wrong'}`;
  }
});
