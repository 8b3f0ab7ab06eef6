// Anomaly model benchmark: detection quality per scenario on a generated stream, false positives on
// normal traffic at other rates and hours, the anomaly rate
// and top anomalies on the real Apache log, and training time for 100,000 samples. Scoring
// throughput has a benchmark of its own (bench/scoring.ts). Prints tables and a final JSON line; never fails.
import { cpus, loadavg, totalmem } from 'node:os';
import { createTrafficGenerator, generateTrainingData, SCENARIO_NAMES } from '../generator/index.js';
import { initBackend } from '../ml/backend.js';
import { evaluateDetections, type EvaluationMetrics } from '../ml/evaluate.js';
import { scoreEvents } from '../ml/scoreEvents.js';
import { holdoutEvents } from '../training/syntheticHoldout.js';
import { readLogFile } from '../training/logFile.js';
import type { ModelArtifact } from '../ml/model.js';
import { trainModel } from '../ml/train.js';
import { APACHE_LOG } from '../test/helpers/fixtures.js';
import { printTable } from './lib/table.js';

const settings = {
  trainingRows: Number(process.env.BENCH_TRAINING_ROWS ?? 50_000),
  streamRows: Number(process.env.BENCH_STREAM_ROWS ?? 200_000),
  largeTrainingRows: Number(process.env.BENCH_LARGE_TRAINING_ROWS ?? 100_000),
  kMin: 2,
  kMax: 12,
  seed: 42,
  thresholdPercentile: 99,
  apacheLog: process.env.BENCH_APACHE_LOG ?? APACHE_LOG,
};

const fixed = (value: number, digits = 4) => value.toFixed(digits);

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`backend: ${backend.name}${backend.skipped.length ? ` (skipped ${backend.skipped.join('; ')})` : ''}`);
  const trainOptions = { kMin: settings.kMin, kMax: settings.kMax, seed: settings.seed, thresholdPercentile: settings.thresholdPercentile };

  // 1. Detection on a generated stream with every scenario.
  console.log(
    `\n== detection: model trained on ${settings.trainingRows} generated rows, scored on a ${settings.streamRows}-row stream with every scenario`,
  );
  const { model } = await trainModel(generateTrainingData(settings.trainingRows, settings.seed), {
    ...trainOptions,
    source: 'bench:generated',
    origin: 'generated',
  });
  const stream = holdoutEvents(2026, settings.streamRows, SCENARIO_NAMES);
  const streamResults = await scoreEvents(model, stream, 'bench', { reasons: false });
  const detection = evaluateDetections(
    stream.map((event) => event.label),
    streamResults.map((result) => result.isAnomaly),
  );
  printDetection(detection, model);

  // 1b. Normal traffic at other rates and hours: a model that learned clients from too short a
  // history, or from a generator whose clients got busier with the traffic, flags busy clients here.
  console.log(`\n== false positives on normal traffic (no scenarios) by rate and hour, same model`);
  const normalTraffic = await falsePositivesByRate(model);
  printTable(
    ['LOGS/S', 'HOUR (UTC)', 'ROWS SCORED', 'FLAGGED'],
    normalTraffic.map((entry) => [String(entry.rate), String(entry.hour), String(entry.rows), `${fixed(100 * entry.flaggedFraction, 3)}%`]),
  );

  // 2. The real Apache log: a model trained on the file itself, as a deployment trains on its own traffic.
  console.log(`\n== ${settings.apacheLog}`);
  const apache = await readLogFile(settings.apacheLog).catch((error: Error) => {
    console.log(`skipped: ${error.message}`);
    return undefined;
  });
  let apacheFigures: Record<string, unknown> = { skipped: true };
  if (apache) {
    const ownModel = (await trainModel(apache.events, { ...trainOptions, source: 'bench:apache', origin: 'site' })).model;
    const results = await scoreEvents(ownModel, apache.events, 'apache', { reasons: true, maxReasons: 3 });
    const flagged = results.filter((result) => result.isAnomaly).length;
    const generatedModelRate =
      (await scoreEvents(model, apache.events, 'generated', { reasons: false })).filter((result) => result.isAnomaly).length /
      apache.events.length;
    console.log(
      `${apache.events.length} rows (${apache.lines - apache.events.length} unusable), model k=${ownModel.training.k}: anomaly rate ${fixed((100 * flagged) / apache.events.length, 2)}% (${flagged} rows); the generated-site model would flag ${fixed(100 * generatedModelRate, 2)}%`,
    );
    const top = results
      .map((result, index) => ({ result, event: apache.events[index]! }))
      .filter(({ result }) => result.isAnomaly)
      .sort((a, b) => b.result.score - a.result.score)
      .slice(0, 20);
    printTable(
      ['SCORE', 'TIME', 'CLIENT', 'REQUEST', 'STATUS', 'BYTES', 'REASONS'],
      top.map(({ result, event }) => [
        fixed(result.score, 2),
        new Date(event.timestampMs).toISOString().slice(0, 19),
        event.clientIp,
        `${event.method} ${(event.query ? `${event.path}?${event.query}` : event.path).slice(0, 48)}`,
        String(event.status),
        String(event.responseBytes),
        (result.reasons ?? []).map((reason) => `${reason.feature}=${reason.value}`).join(', '),
      ]),
    );
    apacheFigures = {
      rows: apache.events.length,
      k: ownModel.training.k,
      anomalyRate: flagged / apache.events.length,
      anomalies: flagged,
      generatedModelAnomalyRate: generatedModelRate,
    };
  }

  // 3. Training time for 100,000 samples.
  console.log(`\n== training on ${settings.largeTrainingRows} generated rows, k ${settings.kMin}..${settings.kMax}`);
  const large = generateTrainingData(settings.largeTrainingRows, settings.seed + 1);
  const started = performance.now();
  const largeModel = (await trainModel(large, { ...trainOptions, source: 'bench:large', origin: 'generated' })).model;
  const trainingSeconds = (performance.now() - started) / 1000;
  printTable(
    ['K', 'SILHOUETTE', 'ITERATIONS'],
    largeModel.training.candidates.map((candidate) => [String(candidate.k), fixed(candidate.silhouette), String(candidate.iterations)]),
  );
  console.log(`trained in ${fixed(trainingSeconds, 1)} s (chosen k=${largeModel.training.k})`);

  console.log(
    JSON.stringify({
      bench: 'ml',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: loadavg()[0] },
      settings,
      backend: backend.name,
      detection: {
        f1: detection.overall.f1,
        precision: detection.overall.precision,
        recall: detection.overall.recall,
        falsePositiveRate: detection.falsePositiveRate,
        k: model.training.k,
        perScenario: Object.fromEntries(
          detection.perLabel
            .filter((entry) => entry.label !== 'normal')
            .map((entry) => [entry.label, { rows: entry.rows, precision: entry.precision, recall: entry.recall, f1: entry.f1 }]),
        ),
      },
      normalTraffic,
      apache: apacheFigures,
      training: { rows: settings.largeTrainingRows, seconds: trainingSeconds, k: largeModel.training.k },
    }),
  );
}

function printDetection(metrics: EvaluationMetrics, model: ModelArtifact): void {
  console.log(`model: k=${model.training.k}, threshold ${model.threshold}, trained in ${fixed(model.training.trainingSeconds, 1)} s`);
  printTable(
    ['LABEL', 'ROWS', 'FLAGGED', 'PRECISION', 'RECALL', 'F1'],
    [
      [
        'overall',
        String(metrics.rows - metrics.perLabel[0]!.rows),
        String(metrics.overall.truePositives),
        fixed(metrics.overall.precision),
        fixed(metrics.overall.recall),
        fixed(metrics.overall.f1),
      ],
      ...metrics.perLabel.map((entry) => [
        entry.label,
        String(entry.rows),
        String(entry.flagged),
        fixed(entry.precision),
        fixed(entry.recall),
        fixed(entry.f1),
      ]),
    ],
  );
  console.log(`false-positive rate on normal traffic: ${fixed(100 * metrics.falsePositiveRate, 3)}%`);
}

/** Flagged share of normal traffic at a few rates, at night and in the afternoon, after a 10,000-row warm-up of the client window. */
async function falsePositivesByRate(model: ModelArtifact) {
  const figures: { rate: number; hour: number; rows: number; flaggedFraction: number }[] = [];
  for (const rate of [20, 50, 200]) {
    for (const hour of [3, 14]) {
      const generator = createTrafficGenerator({ seed: 8, startTimeMs: Date.UTC(2026, 0, 15, hour), ratePerSecond: rate, anomalyRate: 0 });
      const events = Array.from({ length: 30_000 }, () => generator.next());
      const results = await scoreEvents(model, events, 'normal', { reasons: false });
      const scored = results.slice(10_000);
      figures.push({
        rate,
        hour,
        rows: scored.length,
        flaggedFraction: scored.filter((result) => result.isAnomaly).length / scored.length,
      });
    }
  }
  return figures;
}

try {
  await main();
} catch (error) {
  // Benchmarks never fail a build: report and exit 0.
  console.log(`bench ml failed: ${error instanceof Error ? error.message : String(error)}`);
  console.log(JSON.stringify({ bench: 'ml', error: error instanceof Error ? error.message : String(error) }));
}
