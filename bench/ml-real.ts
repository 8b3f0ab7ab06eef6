// Detection on a real site's access log (the Apache log in test/fixtures): split by time, train on
// the first half, inject labeled attack episodes rendered in the site's vocabulary into the second
// half, and report per-scenario recall and false positives on the site's own rows: the promotion
// gate's measurement (ml/gate.ts), on data no one generated. Prints tables and a final JSON line;
// never fails.
import { cpus, loadavg, totalmem } from 'node:os';
import { initBackend } from '../ml/backend.js';
import { evaluateOnGateSet, gateSet, splitByTime, type GateReport } from '../ml/gate.js';
import { trainModel } from '../ml/train.js';
import { readLogFile } from '../training/logFile.js';
import { APACHE_LOG } from '../test/helpers/fixtures.js';

const settings = {
  log: process.env.BENCH_ACCESS_LOG ?? APACHE_LOG,
  heldOutFraction: Number(process.env.BENCH_HELD_OUT_FRACTION ?? 0.5),
  seeds: (process.env.BENCH_SEEDS ?? '1,2,3').split(',').map(Number),
  kMin: 2,
  kMax: 12,
  trainingSeed: 42,
  thresholdPercentile: 99,
};

const TARGETS = { f1: 0.9, falsePositiveRate: 0.01, scenarioRecall: 0.7 };

const fixed = (value: number, digits = 3) => value.toFixed(digits);
function table(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const contents = await readLogFile(settings.log);
  const { training, heldOut } = splitByTime(contents.events, settings.heldOutFraction);
  const span = (rows: typeof training) =>
    `${new Date(rows[0]!.timestampMs).toISOString()} .. ${new Date(rows.at(-1)!.timestampMs).toISOString()}`;
  console.log(
    `${settings.log}: ${contents.events.length} rows (${contents.lines - contents.events.length} unusable), backend ${backend.name}`,
  );
  console.log(`training: ${training.length} rows, ${span(training)}; held out: ${heldOut.length} rows, ${span(heldOut)}`);
  const { model } = await trainModel(training, {
    kMin: settings.kMin,
    kMax: settings.kMax,
    seed: settings.trainingSeed,
    thresholdPercentile: settings.thresholdPercentile,
    source: `bench:${settings.log}`,
    origin: 'site',
  });
  console.log(`model: k=${model.training.k}, trained in ${fixed(model.training.trainingSeconds, 1)} s`);
  const knownClients = new Set(training.map((event) => event.clientIp));

  const reports: GateReport[] = [];
  const reasonsByKind = new Map<string, Map<string, number>>();
  for (const seed of settings.seeds) {
    const rows = gateSet(heldOut, { seed, knownClients });
    const { report, results } = await evaluateOnGateSet(model, rows, 'bench');
    reports.push(report);
    results.forEach((result, index) => {
      if (!result.isAnomaly) return;
      const kind = rows[index]!.label ?? 'normal';
      const counts = reasonsByKind.get(kind) ?? new Map<string, number>();
      const top = result.reasons?.[0]?.feature ?? '-';
      counts.set(top, (counts.get(top) ?? 0) + 1);
      reasonsByKind.set(kind, counts);
    });
  }

  const kinds = reports[0]!.perScenario.map((entry) => entry.kind);
  const sum = (pick: (report: GateReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const perScenario = kinds.map((kind) => {
    const rows = sum((report) => report.perScenario.find((entry) => entry.kind === kind)?.rows ?? 0);
    const detected = sum((report) => report.perScenario.find((entry) => entry.kind === kind)?.detected ?? 0);
    return { kind, rows, detected, recall: rows ? detected / rows : 0 };
  });
  const truePositives = sum((report) => report.metrics.overall.truePositives);
  const falsePositives = sum((report) => report.falsePositives);
  const attackRows = sum((report) => report.attackRows);
  const normalRows = sum((report) => report.normalRows);
  const precision = truePositives / Math.max(1, truePositives + falsePositives);
  const recall = truePositives / Math.max(1, attackRows);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  const falsePositiveRate = falsePositives / Math.max(1, normalRows);

  const topReasons = (kind: string) =>
    [...(reasonsByKind.get(kind) ?? new Map<string, number>())]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([feature, count]) => `${feature} ${count}`)
      .join(', ');
  console.log(`\n== ${settings.seeds.length} injections (seeds ${settings.seeds.join(', ')}) into the held-out half`);
  table(
    ['SCENARIO', 'ROWS', 'DETECTED', 'RECALL', 'TARGET', 'TOP REASONS'],
    [
      ...perScenario.map((entry) => [
        entry.kind,
        String(entry.rows),
        String(entry.detected),
        fixed(entry.recall),
        entry.recall >= TARGETS.scenarioRecall ? 'met' : 'NOT met',
        topReasons(entry.kind),
      ]),
      [
        'normal (site rows)',
        String(normalRows),
        String(falsePositives),
        `FP ${fixed(100 * falsePositiveRate, 2)}%`,
        falsePositiveRate <= TARGETS.falsePositiveRate ? 'met' : 'NOT met',
        topReasons('normal'),
      ],
    ],
  );
  console.log(
    `overall: precision ${fixed(precision)}, recall ${fixed(recall)}, F1 ${fixed(f1)} (target ${TARGETS.f1}: ${f1 >= TARGETS.f1 ? 'met' : 'NOT met'}); false positives ${fixed(100 * falsePositiveRate, 2)}% of the site's rows (target <= ${100 * TARGETS.falsePositiveRate}%)`,
  );
  console.log(
    JSON.stringify({
      bench: 'ml-real',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: loadavg()[0] },
      settings,
      backend: backend.name,
      trainingRows: training.length,
      heldOutRows: heldOut.length,
      k: model.training.k,
      f1,
      precision,
      recall,
      falsePositiveRate,
      perScenario,
      perSeed: reports.map((report) => ({ f1: report.f1, falsePositiveRate: report.falsePositiveRate })),
      targets: TARGETS,
    }),
  );
}

try {
  await main();
} catch (error) {
  // Benchmarks never fail a build: report and exit 0.
  console.log(`bench ml-real failed: ${error instanceof Error ? error.message : String(error)}`);
  console.log(JSON.stringify({ bench: 'ml-real', error: error instanceof Error ? error.message : String(error) }));
}
