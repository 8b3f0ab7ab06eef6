// A self-contained HTML evaluation report with inline SVG charts (no scripts, no network):
// silhouette and inertia per k, and holdout score distributions against the threshold.
import type { EvaluationMetrics } from './evaluate.js';
import type { ModelArtifact } from './model.js';

export interface ReportInput {
  model: ModelArtifact;
  holdout?: { metrics: EvaluationMetrics; scores: ArrayLike<number>; labels: readonly (string | null)[] };
  title?: string;
}

const WIDTH = 560;
const HEIGHT = 240;
const MARGIN = { left: 56, right: 56, top: 24, bottom: 40 };

export function renderEvaluationReport(input: ReportInput): string {
  const { model, holdout } = input;
  const title = input.title ?? `logstream-kmeans, k=${model.training.k}, ${model.training.rows} training rows`;
  const sections = [kChart(model)];
  if (holdout) sections.push(scoreChart(holdout.scores, holdout.labels, model.threshold), metricsTable(holdout.metrics));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}svg text{font:11px system-ui,sans-serif}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>Feature spec ${escapeHtml(model.featureSpec.id)} · backend ${escapeHtml(model.backend)} · seed ${model.training.seed} · threshold ${model.threshold.toFixed(2)} · created ${escapeHtml(model.createdAt)} · source ${escapeHtml(model.training.source)}</p>
${sections.join('\n')}
</body></html>
`;
}

function kChart(model: ModelArtifact): string {
  const candidates = model.training.candidates;
  if (candidates.length === 0) return '';
  const ks = candidates.map((candidate) => candidate.k);
  const x = linear(Math.min(...ks), Math.max(...ks, Math.min(...ks) + 1), MARGIN.left, WIDTH - MARGIN.right);
  const silhouettes = candidates.map((candidate) => candidate.silhouette);
  const inertias = candidates.map((candidate) => candidate.inertia);
  const ySilhouette = linear(Math.min(0, ...silhouettes), Math.max(...silhouettes, 0.01), HEIGHT - MARGIN.bottom, MARGIN.top);
  const yInertia = linear(0, Math.max(...inertias, 1), HEIGHT - MARGIN.bottom, MARGIN.top);
  const line = (values: number[], y: (value: number) => number) =>
    candidates.map((candidate, index) => `${x(candidate.k).toFixed(1)},${y(values[index]!).toFixed(1)}`).join(' ');
  const chosen = x(model.training.k);
  return `<h2>Choosing k</h2>
<svg width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="silhouette and inertia per k">
${axes()}
<line x1="${chosen}" x2="${chosen}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#aaa" stroke-dasharray="4 3"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${line(silhouettes, ySilhouette)}"/>
<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="${line(inertias, yInertia)}"/>
${candidates.map((candidate) => `<text x="${x(candidate.k)}" y="${HEIGHT - MARGIN.bottom + 14}" text-anchor="middle">${candidate.k}</text>`).join('')}
<text x="${WIDTH / 2}" y="${HEIGHT - 6}" text-anchor="middle">k (chosen: ${model.training.k})</text>
<text x="8" y="${MARGIN.top - 8}" fill="#1f77b4">silhouette (max ${Math.max(...silhouettes).toFixed(3)})</text>
<text x="${WIDTH - 8}" y="${MARGIN.top - 8}" fill="#ff7f0e" text-anchor="end">inertia (max ${Math.max(...inertias).toExponential(2)})</text>
</svg>`;
}

function scoreChart(scores: ArrayLike<number>, labels: readonly (string | null)[], threshold: number): string {
  // log10 score bins from 0.01 to 1000
  const bins = 50;
  const low = -2;
  const high = 3;
  const normal = new Array<number>(bins).fill(0);
  const anomalous = new Array<number>(bins).fill(0);
  for (let index = 0; index < scores.length; index += 1) {
    const position = (Math.log10(Math.max(scores[index]!, 1e-2)) - low) / (high - low);
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(position * bins)));
    const label = labels[index];
    (label && label !== 'normal' ? anomalous : normal)[bin]! += 1;
  }
  const x = linear(low, high, MARGIN.left, WIDTH - MARGIN.right);
  const y = linear(0, Math.log10(Math.max(...normal, ...anomalous, 1) + 1), HEIGHT - MARGIN.bottom, MARGIN.top);
  const barWidth = (WIDTH - MARGIN.left - MARGIN.right) / bins;
  const bars = (counts: number[], colour: string) =>
    counts
      .map((count, bin) => {
        if (count === 0) return '';
        const top = y(Math.log10(count + 1));
        return `<rect x="${(MARGIN.left + bin * barWidth).toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${(HEIGHT - MARGIN.bottom - top).toFixed(1)}" fill="${colour}" fill-opacity="0.6"/>`;
      })
      .join('');
  const thresholdX = x(Math.log10(threshold));
  const ticks = [-2, -1, 0, 1, 2, 3]
    .map((power) => `<text x="${x(power)}" y="${HEIGHT - MARGIN.bottom + 14}" text-anchor="middle">${10 ** power}</text>`)
    .join('');
  return `<h2>Holdout scores</h2>
<svg width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="score histogram of normal and anomalous holdout rows">
${axes()}
${bars(normal, '#2ca02c')}${bars(anomalous, '#d62728')}
<line x1="${thresholdX}" x2="${thresholdX}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#000" stroke-dasharray="5 3"/>
<text x="${thresholdX + 4}" y="${MARGIN.top + 10}">threshold ${threshold.toFixed(2)}</text>
${ticks}
<text x="${WIDTH / 2}" y="${HEIGHT - 6}" text-anchor="middle">score (log scale); rows per bin (log scale)</text>
<text x="8" y="${MARGIN.top - 8}" fill="#2ca02c">normal</text><text x="70" y="${MARGIN.top - 8}" fill="#d62728">anomalous (labeled)</text>
</svg>`;
}

function metricsTable(metrics: EvaluationMetrics): string {
  const row = (cells: (string | number)[]) =>
    `<tr>${cells.map((cell) => `<td>${typeof cell === 'number' ? cell.toFixed(3) : escapeHtml(cell)}</td>`).join('')}</tr>`;
  return `<h2>Holdout detection</h2>
<p>${metrics.rows} rows · anomaly rate ${(metrics.anomalyRate * 100).toFixed(2)}% · false-positive rate on normal rows ${(metrics.falsePositiveRate * 100).toFixed(2)}%</p>
<table><tr><th>label</th><th>rows</th><th>flagged</th><th>precision</th><th>recall</th><th>F1</th></tr>
${row(['overall', String(metrics.rows), String(metrics.overall.truePositives + metrics.overall.falsePositives), metrics.overall.precision, metrics.overall.recall, metrics.overall.f1])}
${metrics.perLabel.map((entry) => row([entry.label, String(entry.rows), String(entry.flagged), entry.precision, entry.recall, entry.f1])).join('\n')}
</table>`;
}

function axes(): string {
  return `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${HEIGHT - MARGIN.bottom}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/><line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${HEIGHT - MARGIN.bottom}" stroke="#333"/>`;
}

function linear(domainLow: number, domainHigh: number, rangeLow: number, rangeHigh: number): (value: number) => number {
  const span = domainHigh - domainLow || 1;
  return (value) => rangeLow + ((value - domainLow) / span) * (rangeHigh - rangeLow);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[character]!);
}
