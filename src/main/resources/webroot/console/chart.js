// The activity chart, all from one /admin/stats answer: turns a minute as bars (green, failed ones red on top), and
// active sessions as a line through each minute's peak (the server samples them, so a page opened now shows the last
// half hour too, the same on every instance) ending at the live count. Drawn on a <canvas> with colours from the
// stylesheet, so it follows light and dark.

const WINDOW_MS = 30 * 60 * 1000;

/** The sessions line's points: each sampled minute's peak at its middle, a gap where a minute has none, then now. */
function sessionPoints(stats) {
  const points = (stats.minutes || []).map((m) => (m.activeSessions == null ? null
    : { t: Math.min(m.start + 30000, stats.now), active: m.activeSessions }));
  if (stats.activeSessions != null) {
    points.push({ t: stats.now, active: stats.activeSessions });
  }
  return points;
}

export function drawActivity(canvas, stats) {
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
  const minutes = stats.minutes || [];
  const points = sessionPoints(stats);
  const now = stats.now || Date.now();
  const start = now - WINDOW_MS;
  const x = (t) => pad.left + ((t - start) / WINDOW_MS) * plotW;

  const maxTurns = Math.max(1, ...minutes.map((m) => m.turns));
  const maxSessions = Math.max(1, ...points.filter(Boolean).map((p) => p.active));

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

  g.strokeStyle = colour('--chart-sessions');
  g.fillStyle = colour('--chart-sessions');
  g.lineWidth = 2;
  let run = [];
  const drawRun = () => {
    if (run.length === 1) {
      g.beginPath();
      g.arc(x(run[0].t), pad.top + plotH - (run[0].active / maxSessions) * plotH, 2.5, 0, 2 * Math.PI);
      g.fill();
    } else if (run.length > 1) {
      g.beginPath();
      run.forEach((p, i) => {
        const py = pad.top + plotH - (p.active / maxSessions) * plotH;
        if (i === 0) {
          g.moveTo(x(p.t), py);
        } else {
          g.lineTo(x(p.t), py);
        }
      });
      g.stroke();
    }
    run = [];
  };
  for (const p of points) {
    if (p === null || p.t < start) {
      drawRun();
    } else {
      run.push(p);
    }
  }
  drawRun();
}
