/**
 * The report's chart, as hand-written SVG (no dependency): left, the latency CDFs (send→ack, send→delivery, floor);
 * right, the cost per million messages of each measured row split by component, with the managed peers' list prices.
 */
import { PEERS } from './prices.js';
import type { BenchResults } from './report.js';

const W = 1100;
const H = 440;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `attrs` may set font-size (default 12) and anything else; each attribute appears once. */
function text(x: number, y: number, s: string, attrs = ''): string {
  const size = /font-size=/.test(attrs) ? '' : ' font-size="12"';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT}${size} ${attrs}>${esc(s)}</text>`;
}

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function cdfPanel(r: BenchResults, x0: number, y0: number, w: number, h: number): string {
  const series = [
    { name: 'floor (3 DynamoDB calls + POST)', color: '#8a8a8a', samples: r.latency.floor.samples },
    { name: 'send → ack', color: '#1f77b4', samples: r.latency.sendToAck.samples },
    { name: 'send → delivery', color: '#d62728', samples: r.latency.sendToDelivery.samples },
  ];
  // Log-scaled x: the body (a few ms) and the tail (hundreds) both stay readable.
  const all = series
    .flatMap((s) => s.samples)
    .filter((v) => v > 0)
    .sort((a, b) => a - b);
  const lo = Math.max(0.5, (all[0] ?? 1) * 0.8);
  const hi = Math.max(lo * 4, (all[Math.floor(all.length * 0.999)] ?? 10) * 1.2);
  const X = (v: number) =>
    x0 + ((Math.log(Math.min(Math.max(v, lo), hi)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * w;
  const Y = (p: number) => y0 + h - p * h;
  const out: string[] = [];
  out.push(text(x0, y0 - 14, 'Latency CDF (ms, log scale), same run', 'font-weight="600" font-size="14"'));
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`);
  for (const v of [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) {
    if (v < lo || v > hi) continue;
    out.push(`<line x1="${X(v).toFixed(1)}" y1="${y0}" x2="${X(v).toFixed(1)}" y2="${y0 + h}" stroke="#eee"/>`);
    out.push(text(X(v) - 6, y0 + h + 16, String(v)));
  }
  for (const p of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
    out.push(`<line x1="${x0}" y1="${Y(p).toFixed(1)}" x2="${x0 + w}" y2="${Y(p).toFixed(1)}" stroke="#eee"/>`);
    out.push(text(x0 - 34, Y(p) + 4, `${Math.round(p * 100)}%`));
  }
  series.forEach((s, i) => {
    const sorted = [...s.samples].sort((a, b) => a - b);
    const pts: string[] = [];
    const stride = Math.max(1, Math.floor(sorted.length / 400));
    for (let k = 0; k < sorted.length; k += stride)
      pts.push(`${X(sorted[k]!).toFixed(1)},${Y((k + 1) / sorted.length).toFixed(1)}`);
    if (sorted.length) pts.push(`${X(sorted[sorted.length - 1]!).toFixed(1)},${Y(1).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    // Lower right: slow and still low on the CDF, a corner latency curves with a tail leave empty.
    out.push(`<rect x="${x0 + w - 215}" y="${y0 + h - 70 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    const p50 = sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1]! : NaN;
    out.push(text(x0 + w - 198, y0 + h - 65 + i * 18, `${s.name}  p50 ${p50.toFixed(1)}`, 'font-size="11"'));
  });
  return out.join('\n');
}

function costPanel(r: BenchResults, x0: number, y0: number, w: number, h: number): string {
  const parts = [
    { key: 'apiMessages', name: 'API Gateway messages', color: '#4e79a7' },
    { key: 'lambdaRequests', name: 'Lambda requests', color: '#f28e2b' },
    { key: 'lambdaDuration', name: 'Lambda duration', color: '#ffbe7d' },
    { key: 'ddbWrites', name: 'DynamoDB writes', color: '#59a14f' },
    { key: 'ddbReads', name: 'DynamoDB reads', color: '#8cd17d' },
  ] as const;
  const bars: { label: string; segments: { value: number; color: string }[]; total: number }[] = [];
  for (const row of r.cost.rows) {
    if (row.per !== 'per million messages') continue;
    let label = row.name
      .replace(/\s*\(.*$/, '')
      .replace(/, all acked$/, '')
      .replace(/ with ack, without client_msg_id/, ', no client_msg_id');
    if (!row.available || !row.dollars || !row.units) {
      bars.push({ label: `${label}: n/a`, segments: [], total: 0 });
      continue;
    }
    // A group message is many deliveries: drawn per member delivery, so one scale fits every bar.
    const group = /group/i.test(row.name);
    const k = group ? 1 / Math.max(1, row.units.apiOut - 1) : 1;
    if (group) label = `${label.replace(/^One message to an? /, '')}, per delivery`;
    const d = row.dollars;
    bars.push({ label, segments: parts.map((p) => ({ value: d[p.key] * k, color: p.color })), total: d.total * k });
  }
  for (const peer of PEERS) {
    bars.push({
      label: `${peer.name.replace(/ \(.*\)$/, '').replace(' subscriptions', '')}, with ack`,
      segments: [{ value: peer.perMillionWithAck, color: '#bab0ac' }],
      total: peer.perMillionWithAck,
    });
  }
  const max = Math.max(...bars.map((b) => b.total), 1) * 1.1;
  const labelW = 200;
  const bw = w - labelW;
  const rowH = Math.min(30, (h - 40) / bars.length);
  const X = (v: number) => x0 + labelW + (v / max) * bw;
  const out: string[] = [];
  out.push(text(x0, y0 - 14, 'Cost per million messages ($, counted units)', 'font-weight="600" font-size="14"'));
  const step = niceStep(max, 5);
  for (let v = 0; v <= max; v += step) {
    out.push(
      `<line x1="${X(v).toFixed(1)}" y1="${y0}" x2="${X(v).toFixed(1)}" y2="${y0 + rowH * bars.length}" stroke="#eee"/>`,
    );
    out.push(text(X(v) - 6, y0 + rowH * bars.length + 14, String(Number(v.toFixed(2)))));
  }
  bars.forEach((b, i) => {
    const y = y0 + i * rowH;
    out.push(text(x0, y + rowH * 0.62, b.label, 'font-size="11"'));
    let acc = 0;
    for (const s of b.segments) {
      out.push(
        `<rect x="${X(acc).toFixed(1)}" y="${(y + 4).toFixed(1)}" width="${Math.max(0, X(acc + s.value) - X(acc)).toFixed(1)}" height="${(rowH - 8).toFixed(1)}" fill="${s.color}"/>`,
      );
      acc += s.value;
    }
    if (b.total > 0) out.push(text(X(acc) + 4, y + rowH * 0.62, `$${b.total.toFixed(2)}`, 'font-size="11"'));
  });
  parts.forEach((p, i) => {
    const lx = x0 + (i % 3) * 170;
    const ly = y0 + rowH * bars.length + 36 + Math.floor(i / 3) * 16;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${p.color}"/>`);
    out.push(text(lx + 14, ly, p.name, 'font-size="11"'));
  });
  const ly = y0 + rowH * bars.length + 36 + 16;
  out.push(`<rect x="${x0 + 340}" y="${ly - 9}" width="10" height="10" fill="#bab0ac"/>`);
  out.push(text(x0 + 354, ly, 'peer list price (no storage)', 'font-size="11"'));
  return out.join('\n');
}

export function renderChart(r: BenchResults): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect width="${W}" height="${H}" fill="#fff"/>
${cdfPanel(r, 60, 50, 400, 320)}
${costPanel(r, 510, 50, 560, 320)}
${text(60, H - 10, `teamtalk-serverless local mode, ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.machine.cpu} × ${r.machine.cores}`, 'font-size="11" fill="#666"')}
</svg>
`;
}
