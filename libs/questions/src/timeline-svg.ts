export interface TimelinePoint {
  on: string;
  count: number;
  joined: number;
  left: number;
}

export interface TimelineChart {
  title: string;
  subtitle: string;
  points: TimelinePoint[];
  /** The right end of the time axis (YYYY-MM-DD): the count holds until then. */
  until: string;
}

const WIDTH = 880;
const HEIGHT = 440;
const M = { top: 64, right: 40, bottom: 56, left: 72 };
const PLOT_W = WIDTH - M.left - M.right;
const PLOT_H = HEIGHT - M.top - M.bottom;
const DAY = 86_400_000;

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const days = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY;
const iso = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);
const round = (n: number) => Math.round(n * 10) / 10;

/** 1, 2 or 5 times a power of ten: tick steps a reader can add up. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const unit = [1, 2, 5, 10].find((u) => u * power >= rough)!;
  return unit * power;
}

/** Tick dates on whole years, months or days, at most about ten of them. */
function dateTicks(start: number, end: number): Array<{ day: number; label: string }> {
  const span = end - start;
  const first = new Date(start * DAY);
  const ticks: Array<{ day: number; label: string }> = [];
  if (span > 3 * 365) {
    const step = Math.max(1, Math.ceil(span / 365 / 10));
    for (let y = first.getUTCFullYear() + 1; ; y += step) {
      const d = Date.UTC(y, 0, 1) / DAY;
      if (d > end) {
        break;
      }
      ticks.push({ day: d, label: String(y) });
    }
  } else if (span > 60) {
    const step = Math.max(1, Math.ceil(span / 30 / 10));
    for (let i = 1; ; i += step) {
      const d = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + i, 1) / DAY;
      if (d > end) {
        break;
      }
      ticks.push({ day: d, label: iso(d).slice(0, 7) });
    }
  } else {
    const step = Math.max(1, Math.ceil(span / 10));
    for (let d = Math.ceil(start); d <= end; d += step) {
      ticks.push({ day: d, label: iso(d) });
    }
  }
  return ticks;
}

/**
 * The member count over time as a step chart: it changes only on the dates of the points and
 * holds in between. Hand-written SVG with a title, labelled axes, date and count ticks, and
 * the latest and the highest count written on the line.
 */
export function renderTimelineSvg(chart: TimelineChart): string {
  const { points } = chart;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="title desc" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<title id="title">${escapeXml(chart.title)}</title>`,
    `<desc id="desc">${escapeXml(`${chart.subtitle}. ${points.length} change dates.`)}</desc>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="28" font-size="18" font-weight="600" fill="#111">${escapeXml(chart.title)}</text>`,
    `<text x="${M.left}" y="48" font-size="12" fill="#555">${escapeXml(chart.subtitle)}</text>`,
  );
  if (points.length === 0) {
    out.push(
      `<line x1="${M.left}" y1="${M.top + PLOT_H}" x2="${M.left + PLOT_W}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
      `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
      `<text x="${M.left + PLOT_W / 2}" y="${M.top + PLOT_H / 2}" font-size="14" fill="#555" text-anchor="middle">No membership changes recorded</text>`,
      '</svg>',
    );
    return out.join('\n');
  }

  const start = days(points[0].on);
  const end = Math.max(days(chart.until), days(points[points.length - 1].on), start + 1);
  const maxCount = Math.max(...points.map((p) => p.count), 1);
  const yStep = niceStep(maxCount / 5);
  const yMax = Math.ceil(maxCount / yStep) * yStep;
  const x = (day: number) => round(M.left + ((day - start) / (end - start)) * PLOT_W);
  const y = (count: number) => round(M.top + PLOT_H - (count / yMax) * PLOT_H);

  out.push('<g font-size="11" fill="#444">');
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(
      `<line x1="${M.left}" y1="${y(v)}" x2="${M.left + PLOT_W}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  for (const t of dateTicks(start, end)) {
    out.push(
      `<line x1="${x(t.day)}" y1="${M.top + PLOT_H}" x2="${x(t.day)}" y2="${M.top + PLOT_H + 5}" stroke="#333"/>`,
      `<text x="${x(t.day)}" y="${M.top + PLOT_H + 18}" text-anchor="middle">${t.label}</text>`,
    );
  }
  out.push('</g>');
  out.push(
    `<line x1="${M.left}" y1="${M.top + PLOT_H}" x2="${M.left + PLOT_W}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PLOT_H}" stroke="#333"/>`,
    `<text x="${M.left + PLOT_W / 2}" y="${HEIGHT - 12}" font-size="12" fill="#333" text-anchor="middle">date</text>`,
    `<text transform="translate(18 ${M.top + PLOT_H / 2}) rotate(-90)" font-size="12" fill="#333" text-anchor="middle">members</text>`,
  );

  let path = `M${x(start)},${y(0)}`;
  for (const p of points) {
    path += ` H${x(days(p.on))} V${y(p.count)}`;
  }
  path += ` H${x(end)}`;
  out.push(`<path d="${path}" fill="none" stroke="#2563eb" stroke-width="2"/>`);

  const marks = points.length <= 60 ? points : [];
  for (const p of marks) {
    out.push(
      `<circle cx="${x(days(p.on))}" cy="${y(p.count)}" r="2.5" fill="#2563eb"><title>${p.on}: ${p.count} members (+${p.joined} / -${p.left})</title></circle>`,
    );
  }
  const last = points[points.length - 1];
  const highest = points.reduce((a, b) => (b.count > a.count ? b : a));
  const label = (p: TimelinePoint, text: string) =>
    `<text x="${Math.min(x(days(p.on)) + 4, M.left + PLOT_W - 4)}" y="${y(p.count) - 6}" font-size="12" font-weight="600" fill="#1e40af" text-anchor="${x(days(p.on)) > M.left + PLOT_W * 0.8 ? 'end' : 'start'}">${escapeXml(text)}</text>`;
  if (highest !== last) {
    out.push(label(highest, `${highest.count} (highest, ${highest.on})`));
  }
  out.push(label(last, `${last.count} since ${last.on}`));
  out.push('</svg>');
  return out.join('\n');
}
