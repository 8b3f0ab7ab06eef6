// A self-contained HTML evaluation report with inline SVG charts (no scripts, no network):
// silhouette and inertia per k, the promotion gate on the site's own traffic (recall per attack
// kind, candidate against champion, and the decision), and score distributions against the threshold.
import { type EvaluationMetrics, isAttackLabel } from './evaluate.js';
import type { GateReport } from './gate.js';
import type { ModelArtifact } from './model.js';

export interface GateSection {
  report: GateReport;
  scores: ArrayLike<number>;
  labels: readonly (string | null)[];
  champion?: { version: string; report: GateReport };
  decision: { promoted: boolean; reason: string };
  budget: number;
}

export interface ReportInput {
  model: ModelArtifact;
  holdout?: { metrics: EvaluationMetrics; scores: ArrayLike<number>; labels: readonly (string | null)[] };
  gate?: GateSection;
  title?: string;
}

const WIDTH = 560;
const HEIGHT = 240;
const MARGIN = { left: 56, right: 56, top: 24, bottom: 40 };

export function renderEvaluationReport(input: ReportInput): string {
  const { model, holdout } = input;
  const title = input.title ?? `logstream-kmeans, k=${model.training.k}, ${model.training.rows} training rows`;
  const sections = [kChart(model)];
  if (input.gate) sections.push(gateSection(input.gate, model.threshold));
  if (holdout) {
    const heading = input.gate ? "Generator's synthetic shop (an extra metric; the gate above decided)" : 'Holdout detection';
    sections.push(scoreChart(holdout.scores, holdout.labels, model.threshold), metricsTable(holdout.metrics, heading));
  }
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

function scoreChart(scores: ArrayLike<number>, labels: readonly (string | null)[], threshold: number, heading = 'Holdout scores'): string {
  // log10 score bins from 0.01 to 1000
  const bins = 50;
  const low = -2;
  const high = 3;
  const normal = new Array<number>(bins).fill(0);
  const anomalous = new Array<number>(bins).fill(0);
  for (let index = 0; index < scores.length; index += 1) {
    const position = (Math.log10(Math.max(scores[index]!, 1e-2)) - low) / (high - low);
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(position * bins)));
    (isAttackLabel(labels[index]) ? anomalous : normal)[bin]! += 1;
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
  return `<h2>${escapeHtml(heading)}</h2>
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

function gateSection(gate: GateSection, threshold: number): string {
  const { report, champion } = gate;
  const kinds = report.perScenario.map((entry) => entry.kind);
  const rowHeight = 18;
  const labelWidth = 230;
  const barWidth = WIDTH - labelWidth - 60;
  const height = MARGIN.top + kinds.length * rowHeight * (champion ? 2 : 1) + 30;
  const bars = kinds
    .map((kind, index) => {
      const y = MARGIN.top + index * rowHeight * (champion ? 2 : 1);
      const recall = report.perScenario[index]!.recall;
      const theirs = champion?.report.perScenario.find((entry) => entry.kind === kind)?.recall;
      const bar = (value: number, offset: number, colour: string) =>
        `<rect x="${labelWidth}" y="${y + offset}" width="${(value * barWidth).toFixed(1)}" height="${rowHeight - 4}" fill="${colour}"/><text x="${labelWidth + value * barWidth + 4}" y="${y + offset + 12}">${value.toFixed(2)}</text>`;
      return `<text x="${labelWidth - 6}" y="${y + 12}" text-anchor="end">${escapeHtml(kind)}</text>${bar(recall, 0, '#1f77b4')}${theirs === undefined ? '' : bar(theirs, rowHeight, '#aaa')}`;
    })
    .join('\n');
  const target = labelWidth + 0.7 * barWidth;
  const legend = `<text x="${labelWidth}" y="${MARGIN.top - 8}" fill="#1f77b4">candidate</text>${champion ? `<text x="${labelWidth + 80}" y="${MARGIN.top - 8}" fill="#888">champion version ${escapeHtml(champion.version)}</text>` : ''}`;
  const row = (name: string, entry: GateReport) =>
    `<tr><td>${escapeHtml(name)}</td><td>${entry.f1.toFixed(3)}</td><td>${entry.precision.toFixed(3)}</td><td>${entry.recall.toFixed(3)}</td><td>${(100 * entry.falsePositiveRate).toFixed(2)}%</td></tr>`;
  const perKind = report.perScenario
    .map((entry) => {
      const theirs = champion?.report.perScenario.find((other) => other.kind === entry.kind);
      return `<tr><td>${escapeHtml(entry.kind)}</td><td>${entry.rows}</td><td>${entry.detected}</td><td>${entry.recall.toFixed(3)}</td><td>${theirs ? theirs.recall.toFixed(3) : '-'}</td></tr>`;
    })
    .join('\n');
  return `<h2>Promotion gate: the site's own held-out traffic with attacks injected</h2>
<p><b>${gate.decision.promoted ? 'promoted' : 'not promoted'}</b>: ${escapeHtml(gate.decision.reason)}</p>
<p>${report.normalRows} held-out rows of the site (never fitted on), ${report.attackRows} injected attack rows · false-positive budget ${(100 * gate.budget).toFixed(2)}%</p>
<table><tr><th>model</th><th>F1</th><th>precision</th><th>recall</th><th>false positives</th></tr>
${row('candidate', report)}
${champion ? row(`champion version ${champion.version}`, champion.report) : ''}
</table>
<h3>Recall per attack kind</h3>
<svg width="${WIDTH}" height="${height}" role="img" aria-label="recall per attack kind, candidate and champion">
${legend}
${bars}
<line x1="${target}" x2="${target}" y1="${MARGIN.top}" y2="${height - 24}" stroke="#d62728" stroke-dasharray="4 3"/>
<text x="${target + 4}" y="${height - 10}" fill="#d62728">0.7</text>
</svg>
<table><tr><th>kind</th><th>rows</th><th>detected</th><th>recall</th><th>champion</th></tr>
${perKind}
</table>
${scoreChart(gate.scores, gate.labels, threshold, 'Gate scores')}`;
}

function metricsTable(metrics: EvaluationMetrics, heading = 'Holdout detection'): string {
  const row = (cells: (string | number)[]) =>
    `<tr>${cells.map((cell) => `<td>${typeof cell === 'number' ? cell.toFixed(3) : escapeHtml(cell)}</td>`).join('')}</tr>`;
  return `<h2>${escapeHtml(heading)}</h2>
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
