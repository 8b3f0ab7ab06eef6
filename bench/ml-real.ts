// Detection on a real site's access log (the Apache log in test/fixtures): split by time, train on
// the first half, inject labeled attack episodes rendered in the site's vocabulary into the second
// half, and report per-scenario recall and false positives on the site's own rows: the promotion
// gate's measurement (ml/gate.ts), on data no one generated. Prints tables and a final JSON line;
// never fails.
import { cpus, loadavg, totalmem } from 'node:os';
import { initBackend } from '../ml/backend.js';
import { evaluateOnOwnTraffic } from '../ml/gate.js';
import { readLogFile } from '../training/logFile.js';
import { APACHE_LOG } from '../test/helpers/fixtures.js';
import { printTable } from './lib/table.js';

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

async function main(): Promise<void> {
  const backend = await initBackend();
  const contents = await readLogFile(settings.log);
  console.log(
    `${settings.log}: ${contents.events.length} rows (${contents.lines - contents.events.length} unusable), backend ${backend.name}`,
  );
  const evaluation = await evaluateOnOwnTraffic(contents.events, {
    heldOutFraction: settings.heldOutFraction,
    injectionSeeds: settings.seeds,
    train: {
      kMin: settings.kMin,
      kMax: settings.kMax,
      seed: settings.trainingSeed,
      thresholdPercentile: settings.thresholdPercentile,
      source: `bench:${settings.log}`,
    },
  });
  const { model, report } = evaluation;
  console.log(
    `trained on the first ${evaluation.trainingRows} rows (k=${model.training.k}, ${fixed(model.training.trainingSeconds, 1)} s); ${evaluation.heldOutRows} rows held out, ${settings.seeds.length} injections (seeds ${settings.seeds.join(', ')})`,
  );
  const reasonsByKind = new Map<string, Map<string, number>>();
  for (const round of evaluation.rounds) {
    round.results.forEach((result, index) => {
      if (!result.isAnomaly) return;
      const kind = round.rows[index]!.label ?? 'normal';
      const counts = reasonsByKind.get(kind) ?? new Map<string, number>();
      const top = result.reasons?.[0]?.feature ?? '-';
      counts.set(top, (counts.get(top) ?? 0) + 1);
      reasonsByKind.set(kind, counts);
    });
  }
  const topReasons = (kind: string) =>
    [...(reasonsByKind.get(kind) ?? new Map<string, number>())]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([feature, count]) => `${feature} ${count}`)
      .join(', ');
  printTable(
    ['SCENARIO', 'ROWS', 'DETECTED', 'RECALL', 'TARGET', 'TOP REASONS'],
    [
      ...report.perScenario.map((entry) => [
        entry.kind,
        String(entry.rows),
        String(entry.detected),
        fixed(entry.recall),
        entry.recall >= TARGETS.scenarioRecall ? 'met' : 'NOT met',
        topReasons(entry.kind),
      ]),
      [
        'normal (site rows)',
        String(report.normalRows),
        String(report.falsePositives),
        `FP ${fixed(100 * report.falsePositiveRate, 2)}%`,
        report.falsePositiveRate <= TARGETS.falsePositiveRate ? 'met' : 'NOT met',
        topReasons('normal'),
      ],
    ],
  );
  console.log(
    `overall: precision ${fixed(report.precision)}, recall ${fixed(report.recall)}, F1 ${fixed(report.f1)} (target ${TARGETS.f1}: ${report.f1 >= TARGETS.f1 ? 'met' : 'NOT met'}); false positives ${fixed(100 * report.falsePositiveRate, 2)}% of the site's rows (target <= ${100 * TARGETS.falsePositiveRate}%)`,
  );
  console.log(
    JSON.stringify({
      bench: 'ml-real',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: loadavg()[0] },
      settings,
      backend: backend.name,
      trainingRows: evaluation.trainingRows,
      heldOutRows: evaluation.heldOutRows,
      k: model.training.k,
      f1: report.f1,
      precision: report.precision,
      recall: report.recall,
      falsePositiveRate: report.falsePositiveRate,
      perScenario: report.perScenario,
      perSeed: evaluation.rounds.map((round) => ({
        seed: round.seed,
        f1: round.report.f1,
        falsePositiveRate: round.report.falsePositiveRate,
      })),
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
