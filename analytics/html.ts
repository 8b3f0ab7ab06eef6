// The self-contained HTML report of `logstream analytics --html FILE`: headline figures, charts
// as inline SVG, and every section as a table. No scripts, no external resources.
import { barSpec, renderSvg, timeSeriesSpec } from './charts.js';
import { section, type AnalyticsReport, type ReportSection } from './report.js';

const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );

const formatNumber = (value: unknown): string =>
  typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 4 }) : String(value ?? '');

function table(part: ReportSection): string {
  if (part.rows.length === 0) return `<p class="empty">No rows.</p>`;
  const columns = Object.keys(part.rows[0]!);
  const head = columns.map((column) => `<th>${escapeHtml(column)}</th>`).join('');
  const body = part.rows
    .map(
      (row) =>
        `<tr>${columns.map((column) => `<td class="${typeof row[column] === 'number' ? 'num' : ''}">${escapeHtml(formatNumber(row[column]))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table data-section="${escapeHtml(part.name)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function sectionHtml(part: ReportSection): string {
  const heading = `<h2>${escapeHtml(part.title)}</h2>`;
  if (part.rows.length <= FOLD_ROWS) return `${heading}\n${table(part)}`;
  return `${heading}\n<details><summary>${part.rows.length} rows</summary>\n${table(part)}\n</details>`;
}

function headline(report: AnalyticsReport): string {
  const summary = section(report, 'summary')?.rows[0] ?? {};
  const requests = Number(summary.requests ?? 0);
  const rate = (count: unknown) => (requests > 0 ? `${((Number(count ?? 0) / requests) * 100).toFixed(2)}%` : '–');
  const figures: Array<[string, string, string]> = [
    ['requests', formatNumber(requests), 'requests'],
    ['clients', formatNumber(summary.clients), 'distinct client IPs'],
    ['endpoints', formatNumber(summary.endpoints), 'endpoints'],
    ['server_errors', rate(summary.server_errors), 'server errors (5xx)'],
    ['anomalies', rate(summary.anomalies), 'anomalies'],
  ];
  return `<div class="figures">${figures
    .map(
      ([name, value, label]) =>
        `<div class="figure" data-figure="${name}"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`,
    )
    .join('')}</div>`;
}

const COUNT = ',d';
const RATE = '.2~%';
/** Sections longer than this are folded so the report stays readable. */
const FOLD_ROWS = 25;

async function charts(report: AnalyticsReport): Promise<string[]> {
  const specs = [];
  const volume = section(report, 'volume');
  if (volume?.rows.length)
    specs.push(timeSeriesSpec(volume.rows, 'bucket', ['requests', 'server_errors', 'anomalies'], `Requests per ${report.bucket}`));
  const endpoints = section(report, 'endpoints');
  if (endpoints?.rows.length) {
    specs.push(barSpec(endpoints.rows, 'endpoint', 'requests', 'Busiest endpoints', COUNT));
    if (endpoints.rows.some((row) => row.p95_ms !== null))
      specs.push(barSpec(endpoints.rows, 'endpoint', 'p95_ms', 'Response time p95 (ms) by endpoint', COUNT));
    if (endpoints.rows.some((row) => Number(row.error_rate) > 0))
      specs.push(barSpec(endpoints.rows, 'endpoint', 'error_rate', 'Server error rate by endpoint', RATE));
  }
  const labels = section(report, 'anomaly_types');
  if (labels?.rows.length) specs.push(barSpec(labels.rows, 'label', 'anomaly_rate', 'Anomaly rate by label', RATE));
  const clients = section(report, 'top_clients');
  if (clients?.rows.length) specs.push(barSpec(clients.rows, 'client_ip', 'requests', 'Top clients', COUNT));
  return Promise.all(specs.map(renderSvg));
}

export async function renderHtml(report: AnalyticsReport, tablePath: string): Promise<string> {
  const filter = [
    report.filter.from && `from ${report.filter.from}`,
    report.filter.to && `to ${report.filter.to}`,
    report.filter.endpoint && `endpoint ${report.filter.endpoint}`,
  ]
    .filter(Boolean)
    .join(', ');
  const svgs = await charts(report);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LogStream analytics</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1f2328; }
h1 { margin-bottom: 0.2rem; } .meta { color: #59636e; margin-top: 0; }
.figures { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1.5rem 0; }
.figure { border: 1px solid #d1d9e0; border-radius: 8px; padding: 0.8rem 1.2rem; min-width: 150px; }
.figure .value { font-size: 1.8rem; font-weight: 600; } .figure .label { color: #59636e; }
.chart { margin: 1.5rem 0; } .chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0 2rem; font-size: 0.9rem; width: 100%; }
th, td { border-bottom: 1px solid #d1d9e0; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f6f8fa; }
td { word-break: break-all; } .empty { color: #59636e; }
</style></head><body>
<h1>LogStream analytics</h1>
<p class="meta">Table ${escapeHtml(tablePath)}${report.tableVersion === null ? '' : ` at version ${report.tableVersion}`} · generated ${escapeHtml(report.generatedAt)}${filter ? ` · ${escapeHtml(filter)}` : ''}</p>
${headline(report)}
${svgs.map((svg) => `<div class="chart">${svg}</div>`).join('\n')}
${report.sections.map(sectionHtml).join('\n')}
</body></html>
`;
}
