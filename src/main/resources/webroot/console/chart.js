// The activity chart: turns a minute as bars (green, failed ones red on top) from /admin/stats, and active sessions
// as a line from the samples this page took. Drawn on a <canvas> with colours from the stylesheet, so it follows
// light and dark.

const WINDOW_MS = 30 * 60 * 1000;

export function drawActivity(canvas, samples, minutes) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(280, canvas.clientWidth || canvas.width);
  const height = Math.round(width < 500 ? 160 : 200);
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);

  const style = getComputedStyle(document.documentElement);
  const colour = (name) => style.getPropertyValue(name).trim() || '#888';
  const pad = { left: 8, right: 8, top: 16, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const now = Date.now();
  const start = now - WINDOW_MS;
  const x = (t) => pad.left + ((t - start) / WINDOW_MS) * plotW;

  const maxTurns = Math.max(1, ...minutes.map((m) => m.turns));
  const maxSessions = Math.max(1, ...samples.map((s) => s.active));

  g.strokeStyle = colour('--line');
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad.left, pad.top + plotH + 0.5);
  g.lineTo(pad.left + plotW, pad.top + plotH + 0.5);
  g.stroke();

  g.fillStyle = colour('--muted');
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'left';
  g.fillText('−30 min', pad.left, height - 6);
  g.textAlign = 'right';
  g.fillText('now', pad.left + plotW, height - 6);
  // The two scales, each in its series' colour: sessions on the left, turns a minute on the right.
  g.textAlign = 'left';
  g.fillStyle = colour('--chart-sessions');
  g.fillText(maxSessions === 1 ? '1 session' : `${maxSessions} sessions`, pad.left + 2, 11);
  g.textAlign = 'right';
  g.fillStyle = colour('--chart-turns');
  g.fillText(`${maxTurns} turns/min`, pad.left + plotW - 2, 11);

  const barW = Math.max(2, plotW / 30 - 2);
  for (const m of minutes) {
    if (m.start + 60000 < start) {
      continue;
    }
    const left = Math.max(pad.left, x(m.start) + 1);
    const ok = m.turns - (m.failed || 0);
    const hOk = (ok / maxTurns) * plotH;
    const hFailed = ((m.failed || 0) / maxTurns) * plotH;
    g.fillStyle = colour('--chart-turns');
    g.fillRect(left, pad.top + plotH - hOk, barW, hOk);
    g.fillStyle = colour('--chart-failed');
    g.fillRect(left, pad.top + plotH - hOk - hFailed, barW, hFailed);
  }

  const visible = samples.filter((s) => s.t >= start);
  if (visible.length > 0) {
    g.strokeStyle = colour('--chart-sessions');
    g.lineWidth = 2;
    g.beginPath();
    visible.forEach((s, i) => {
      const px = x(s.t);
      const py = pad.top + plotH - (s.active / maxSessions) * plotH;
      if (i === 0) {
        g.moveTo(px, py);
      } else {
        g.lineTo(px, py);
      }
    });
    if (visible.length === 1) {
      g.arc(x(visible[0].t), pad.top + plotH - (visible[0].active / maxSessions) * plotH, 2, 0, 2 * Math.PI);
    }
    g.stroke();
  }
}

/** Drops samples older than the chart shows. */
export function keepWindow(samples) {
  const start = Date.now() - WINDOW_MS;
  while (samples.length > 0 && samples[0].t < start) {
    samples.shift();
  }
}
