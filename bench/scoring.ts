// Scoring benchmark (issue 16): Scorer.score on 10,000-row batches, the whole path (client window,
// features, scaling, distances, per-feature check, reasons), and its stages. The rows are the
// records a streamer scores: JSON lines of the benchmark site at 10,000 logs/s, decoded and made
// into records by the streamer's own intake. It runs in a process of its own, because V8 optimises
// for the object shapes it has seen: after bench ml's other sections (generator rows, training
// samples, the Apache log) decoded batches took twice the CPU they take in a process that has seen
// only them (ml/README.md). Prints figures and a final JSON line; never fails.
//   npm run bench -- scoring [--warm-up-batches 30] [--batches 60]
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { parseNonNegativeInteger, parsePositiveInteger } from '../cli/options.js';
import type { ConsumedMessage } from '../clients/kafka/index.js';
import { loadConfig } from '../config/load.js';
import { createTrafficGenerator, DEFAULT_ANOMALY_RATE, toJsonLine } from '../generator/index.js';
import { createDecoder } from '../logs/decoder.js';
import { initBackend } from '../ml/backend.js';
import { ClientWindow } from '../ml/clientWindow.js';
import { extractScaledFeatures, FEATURE_COUNT, type FeatureBuffers } from '../ml/features.js';
import { createScorer } from '../ml/kmeansScorer.js';
import type { ModelArtifact } from '../ml/model.js';
import { scoreAugmentedRows, scoringTensors } from '../ml/score.js';
import { decodeMessage } from '../logs/decode.js';
import { EventPacker, EventUnpacker } from '../logs/packedEvents.js';
import { takeDecoded } from '../streamers/intake.js';
import type { ScoredRecord } from '../streamers/sinks.js';
import { BENCH_SITE_SEED, trainBenchModel } from './lib/benchModel.js';
import { printTable } from './lib/table.js';

const { values: args } = parseArgs({
  options: {
    /** Batches scored before the timed ones: a streamer runs for hours, so the JIT's first minute and an empty client window are not what it runs at. */
    'warm-up-batches': { type: 'string', default: '30' },
    batches: { type: 'string', default: '60' },
  },
});
const settings = (() => {
  try {
    return {
      batchRows: 10_000,
      warmUpBatches: parseNonNegativeInteger('--warm-up-batches', args['warm-up-batches']),
      batches: parsePositiveInteger('--batches', args.batches),
      ratePerSecond: 10_000,
    };
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
})();
const TARGET_ROWS_PER_SECOND = 2_000_000;

const config = loadConfig().config;

/**
 * The streamer's records of the next batch of the benchmark site's traffic, exactly as intake makes
 * them from Kafka messages (JSON lines), without verdicts (as while the pipeline is learning). The
 * messages are decoded and packed as on the streamer's decode thread and cloned as its answers
 * are, so records share one string per user agent, method and template, as the streamer's do.
 */
function recordSource(): () => Promise<ScoredRecord[]> {
  const generator = createTrafficGenerator({
    seed: BENCH_SITE_SEED,
    startTimeMs: Date.now() - 3_600_000,
    ratePerSecond: settings.ratePerSecond,
    anomalyRate: DEFAULT_ANOMALY_RATE,
  });
  const decode = {
    maxMessageBytes: config.streaming.max_message_bytes,
    nowMs: 0,
    decoder: createDecoder(config.decode, { window: false }),
  };
  const packer = new EventPacker();
  const unpacker = new EventUnpacker();
  let offset = 0n;
  return async () => {
    const messages: ConsumedMessage[] = [];
    for (let row = 0; row < settings.batchRows; row += 1) {
      const log = generator.next();
      messages.push({ partition: 0, offset, key: null, value: Buffer.from(toJsonLine(log)), timestampMs: log.timestampMs });
      offset += 1n;
    }
    decode.nowMs = Date.now();
    const packed = packer.pack(messages.map((message) => decodeMessage(message.value, decode)));
    const decoded = unpacker.receive(structuredClone(packed));
    const context = { topic: 'bench', partition: 0, scorer: undefined, clientWindow: new ClientWindow(), nowMs: decode.nowMs };
    return (await takeDecoded(messages, decoded, undefined, context)).good;
  };
}

/** Wall and CPU milliseconds of the timed batches of one stage. */
class StageTimes {
  private readonly wallMs: number[] = [];
  private readonly cpuMs: number[] = [];

  async time<T>(run: () => T | Promise<T>, record: boolean): Promise<T> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await run();
    const used = process.cpuUsage(cpu);
    if (record) {
      this.wallMs.push(performance.now() - started);
      this.cpuMs.push((used.user + used.system) / 1000);
    }
    return result;
  }

  summary(): { medianMs: number; bestMs: number; cpuMedianMs: number } {
    const wall = [...this.wallMs].sort((a, b) => a - b);
    const cpu = [...this.cpuMs].sort((a, b) => a - b);
    return { medianMs: wall[wall.length >> 1]!, bestMs: wall[0]!, cpuMedianMs: cpu[cpu.length >> 1]! };
  }
}

type Timing = ReturnType<StageTimes['summary']>;

/**
 * Each batch goes through the whole path and then the two stages, each with a client window of its
 * own that lives through the whole stream, as a streamer's does.
 */
async function measure(model: ModelArtifact) {
  const nextBatch = recordSource();
  const featureWindow = new ClientWindow();
  const buffers: FeatureBuffers = { raw: new Float32Array(0), augmented: new Float32Array(0) };
  const tensors = scoringTensors(model);
  const scorer = createScorer(model, 'bench');
  const scoreWindow = new ClientWindow();
  const stages = { features: new StageTimes(), tensor: new StageTimes(), scoring: new StageTimes() };
  let anomalies = 0;
  for (let batch = 0; batch < settings.warmUpBatches + settings.batches; batch += 1) {
    const records = await nextBatch();
    const timed = batch >= settings.warmUpBatches;
    // The whole path first, on records no stage has touched, as intake hands them over: a string
    // looked up in a Map keeps its hash, so a stage run before it would have done part of its work.
    const verdicts = await stages.scoring.time(() => scorer.score(records, scoreWindow), timed);
    if (timed) for (const flag of verdicts.anomalous) anomalies += flag;
    const { augmented } = await stages.features.time(
      () => extractScaledFeatures(records, featureWindow, model.vocabulary, model.scaler, buffers),
      timed,
    );
    await stages.tensor.time(() => scoreAugmentedRows(tensors, augmented, FEATURE_COUNT), timed);
    if ((batch + 1) % 30 === 0) console.log(`  ${batch + 1} of ${settings.warmUpBatches + settings.batches} batches`);
  }
  tensors.dispose();
  scorer.dispose();
  return {
    features: stages.features.summary(),
    tensor: stages.tensor.summary(),
    scoring: stages.scoring.summary(),
    anomalyShare: anomalies / (settings.batches * settings.batchRows),
  };
}

async function main(): Promise<void> {
  const backend = await initBackend();
  console.log(`backend: ${backend.name}${backend.skipped.length ? ` (skipped ${backend.skipped.join('; ')})` : ''}`);
  const trained = await trainBenchModel(config, settings.ratePerSecond, 'bench:scoring');
  console.log(`model: k=${trained.model.training.k}, trained on ${trained.rows} sampled rows in ${trained.seconds.toFixed(1)} s`);
  console.log(
    `\n== Scorer.score on ${settings.batches} batches of ${settings.batchRows.toLocaleString('en-US')} streamer records ` +
      `(the benchmark site at ${settings.ratePerSecond.toLocaleString('en-US')} logs/s), after ${settings.warmUpBatches} untimed ones`,
  );
  const { features, tensor, scoring, anomalyShare } = await measure(trained.model);
  const rate = (ms: number) => Math.round((settings.batchRows * 1000) / ms);
  const rows: [string, Timing][] = [
    ['client window + features + scaler', features],
    ['distance matrix + nearest cluster + score (tensor work)', tensor],
    ['Scorer.score end to end (records in, verdicts and reasons out)', scoring],
  ];
  const header = ['STAGE', 'ROWS/S (MEDIAN BATCH)', 'ROWS/S (BEST BATCH)', 'MS/BATCH (MEDIAN)', 'CPU MS/BATCH (MEDIAN)'];
  const cells = rows.map(([stage, timing]) => [
    stage,
    rate(timing.medianMs).toLocaleString('en-US'),
    rate(timing.bestMs).toLocaleString('en-US'),
    timing.medianMs.toFixed(2),
    timing.cpuMedianMs.toFixed(2),
  ]);
  printTable(header, cells);
  const verdict = rate(scoring.bestMs) >= TARGET_ROWS_PER_SECOND ? 'met' : 'NOT met';
  console.log(
    `target ${TARGET_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s for Scorer.score: ${verdict} ` +
      `(best batch ${rate(scoring.bestMs).toLocaleString('en-US')}, median ${rate(scoring.medianMs).toLocaleString('en-US')}); ` +
      `${(100 * anomalyShare).toFixed(2)}% of rows flagged and explained`,
  );
  console.log(
    JSON.stringify({
      bench: 'scoring',
      machine: { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: loadavg()[0] },
      settings,
      backend: backend.name,
      k: trained.model.training.k,
      anomalyShare,
      rowsPerSecond: Object.fromEntries(
        rows.map(([stage, timing]) => [
          stage,
          { median: rate(timing.medianMs), best: rate(timing.bestMs), cpuMsPerBatch: timing.cpuMedianMs },
        ]),
      ),
    }),
  );
}

try {
  await main();
} catch (error) {
  // Benchmarks never fail a build: report and exit 0.
  const message = error instanceof Error ? error.message : String(error);
  console.log(`bench scoring failed: ${message}`);
  console.log(JSON.stringify({ bench: 'scoring', error: message }));
}
