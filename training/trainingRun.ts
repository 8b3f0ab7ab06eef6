// One training run end to end, shared by `logstream train` and the training workflow's activity:
// read rows, hold the most recent of the site's own traffic out, train on the rest, judge the
// model on the held-out slice with attacks injected (the generator's shop for generated rows),
// publish to MLflow and maybe promote.
import { writeFile } from 'node:fs/promises';
import { createMlflowClient } from '../clients/mlflow/client.js';
import { s3SettingsFromConfig } from '../clients/delta/index.js';
import { createDecoder } from '../logs/decoder.js';
import type { PipelineConfig } from '../config/schema.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from '../ml/clientWindow.js';
import { MIN_HELD_OUT_ROWS, siteTrafficFromDelta } from './deltaSample.js';
import { TrainingDataError } from '../ml/errors.js';
import type { EvaluationMetrics } from '../ml/evaluate.js';
import { evaluateModel } from '../ml/scoreEvents.js';
import { holdoutEvents } from './syntheticHoldout.js';
import { readLogFile } from './logFile.js';
import { serializeModel, type ModelArtifact } from '../ml/model.js';
import { evaluateOnGateSet, gateSet, splitByTime, type GateReport } from '../ml/gate.js';
import { publishModel, type OwnTrafficGate, type PublishResult } from './registry.js';
import { trainModel, type TrainingProgress } from '../ml/train.js';
import { trafficOrigin } from './trafficOrigin.js';
import type { TrafficOrigin } from '../ml/model.js';

export interface TrainingRunOptions {
  config: PipelineConfig;
  /** JSON-lines or combined-log file to train on. */
  dataFile?: string;
  /** Rows already in memory; used when no dataFile is given. Without either, a sample of the Delta logs table. */
  events?: readonly LogEvent[];
  /** With `events`: their client statistics as recorded by a sampler (see deltaSample.ts). */
  clientStats?: readonly ClientStats[];
  /** With `events`: the site's held-out rows to judge on; default the most recent ml.gate_holdout_fraction of them. */
  heldOut?: readonly LogEvent[];
  /** Where the rows came from when `events` is given. */
  source?: string;
  /** Whether the rows are the site's own or generated (default: told by their labels, see trafficOrigin; Delta: site). */
  origin?: TrafficOrigin;
  seed?: number;
  /** Publish to MLflow and consider promotion (default true). */
  register?: boolean;
  /** Also write the model artifact to this file. */
  outFile?: string;
  /** Rows of the generated held-out labeled set (default HOLDOUT_ROWS; fewer when the site's own traffic decides). */
  holdoutRows?: number;
  /** The clock, for the Delta lookback window (tests). */
  nowMs?: number;
  onProgress?: (event: TrainingRunProgress) => void;
}

export type TrainingRunProgress =
  | TrainingProgress
  | { stage: 'reading'; lines: number }
  | { stage: 'gate'; message: string }
  | { stage: 'publishing'; message: string };

/** The own-traffic gate's outcome for the candidate. */
export interface GateOutcome {
  report: GateReport;
  heldOutRows: number;
  /** Not registered: the decision against the champion is made when publishing. */
  withinBudget: boolean;
}

export interface TrainingRunResult {
  model: ModelArtifact;
  /** The generator's synthetic shop: the gate without the site's own traffic, else an extra metric. */
  holdout: EvaluationMetrics;
  /** The site's own held-out traffic with attacks injected, when the rows are the site's. */
  gate?: GateOutcome;
  published?: PublishResult;
  outFile?: string;
  rejectedLines: number;
}

/** The synthetic shop is only an extra metric when the site's own traffic decides: a smaller one does. */
const EXTRA_HOLDOUT_ROWS = 12_000;

export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunResult> {
  const { config } = options;
  const register = options.register ?? true;
  const seed = options.seed ?? config.ml.seed;
  const client = createMlflowClient(config.mlflow);
  // Fail before spending minutes on training when the registry is down or refuses the credentials.
  if (register) await client.checkAccess();

  const data = await trainingData(options, seed);
  const { model } = await trainModel(data.events, {
    kMin: config.ml.k_min,
    kMax: config.ml.k_max,
    seed,
    thresholdPercentile: config.ml.threshold_percentile,
    source: data.source,
    origin: data.origin,
    clientStats: data.clientStats,
    onProgress: options.onProgress,
  });
  if (options.outFile) await writeFile(options.outFile, serializeModel(model));

  let gate: OwnTrafficGate | undefined;
  if (data.heldOut) {
    options.onProgress?.({
      stage: 'gate',
      message: `injecting attacks into ${data.heldOut.length} held-out rows of the site and scoring them`,
    });
    const rows = gateSet(data.heldOut, { seed, knownClients: data.events.map((event) => event.clientIp) });
    const { report, results } = await evaluateOnGateSet(model, rows);
    gate = {
      rows,
      report,
      scores: Float32Array.from(results, (result) => result.score),
      policy: { falsePositiveBudget: config.ml.gate_false_positive_budget },
    };
  }
  const gateOutcome = gate && {
    report: gate.report,
    heldOutRows: data.heldOut!.length,
    withinBudget: gate.report.falsePositiveRate <= gate.policy.falsePositiveBudget,
  };
  const holdout = holdoutEvents(seed, options.holdoutRows ?? (gate ? EXTRA_HOLDOUT_ROWS : undefined));
  if (!register) {
    const { metrics } = await evaluateModel(model, holdout);
    return { model, holdout: metrics, gate: gateOutcome, outFile: options.outFile, rejectedLines: data.rejectedLines };
  }
  const published = await publishModel({
    client,
    experiment: config.mlflow.experiment,
    registeredModel: config.mlflow.registered_model,
    model,
    holdout,
    gate,
    params: {
      k_min: config.ml.k_min,
      k_max: config.ml.k_max,
      seed,
      threshold_percentile: config.ml.threshold_percentile,
      holdout_rows: holdout.length,
      origin: model.training.origin,
      ...(gate
        ? {
            gate_false_positive_budget: config.ml.gate_false_positive_budget,
            gate_held_out_rows: data.heldOut!.length,
            gate_attack_rows: gate.report.attackRows,
          }
        : {}),
    },
    onProgress: (message) => options.onProgress?.({ stage: 'publishing', message }),
  });
  return { model, holdout: published.holdout, gate: gateOutcome, published, outFile: options.outFile, rejectedLines: data.rejectedLines };
}

interface TrainingData {
  events: readonly LogEvent[];
  clientStats?: readonly ClientStats[];
  /** The site's held-out rows (never fitted on); absent for generated traffic. */
  heldOut?: readonly LogEvent[];
  source: string;
  origin: TrafficOrigin;
  rejectedLines: number;
}

/**
 * Training rows and, for the site's own traffic, the held-out slice the gate judges on: from a
 * file or memory, its most recent ml.gate_holdout_fraction (by time); from the lakehouse, the most
 * recent part of the lookback window (see siteTrafficFromDelta).
 */
async function trainingData(options: TrainingRunOptions, seed: number): Promise<TrainingData> {
  const { config } = options;
  let events: readonly LogEvent[];
  let source: string;
  let rejectedLines = 0;
  if (options.dataFile) {
    const contents = await readLogFile(options.dataFile, {
      decoder: createDecoder(config.decode, { topic: config.kafka.topic, window: false }),
      onProgress: (lines) => options.onProgress?.({ stage: 'reading', lines }),
    });
    events = contents.events;
    rejectedLines = contents.lines - contents.events.length;
    source = `file:${options.dataFile}`;
    if (events.length === 0)
      throw new TrainingDataError(`${options.dataFile} holds no usable log lines (${contents.lines} lines, ${rejectedLines} rejected)`);
  } else if (options.events) {
    events = options.events;
    source = options.source ?? 'memory';
  } else {
    options.onProgress?.({ stage: 'reading', lines: 0 });
    const traffic = await siteTrafficFromDelta({
      root: config.delta.root,
      storage: { s3: s3SettingsFromConfig(config.s3) },
      lookbackHours: config.ml.lookback_hours,
      samples: config.ml.training_samples,
      seed,
      heldOutFraction: config.ml.gate_holdout_fraction,
      heldOutRows: config.ml.gate_holdout_rows,
      nowMs: options.nowMs,
    });
    return {
      events: traffic.sample.events,
      clientStats: traffic.sample.clientStats,
      heldOut: traffic.heldOut,
      source: `${traffic.sample.source}; held out ${traffic.heldOut.length} rows from ${new Date(traffic.cutMs).toISOString()}`,
      // Rows the generator wrote (every one labeled with its scenario) make a generated model, even in Delta.
      origin: options.origin ?? trafficOrigin([...traffic.sample.events, ...traffic.heldOut]),
      rejectedLines,
    };
  }
  const origin = options.origin ?? (options.clientStats ? 'site' : trafficOrigin(events));
  if (origin === 'generated') return { events, clientStats: options.clientStats, source, origin, rejectedLines };
  if (options.heldOut) return { events, clientStats: options.clientStats, heldOut: options.heldOut, source, origin, rejectedLines };
  if (options.clientStats) throw new RangeError('recorded client statistics need their held-out rows (heldOut)');
  const { training, heldOut } = splitByTime(events, config.ml.gate_holdout_fraction);
  if (heldOut.length < MIN_HELD_OUT_ROWS) {
    throw new TrainingDataError(
      `${source} holds ${events.length} rows: too few to hold ${Math.round(100 * config.ml.gate_holdout_fraction)}% of them out and judge a model on the site's own traffic (at least ${MIN_HELD_OUT_ROWS} held-out rows)`,
      'train on more of the site traffic, or raise ml.gate_holdout_fraction',
    );
  }
  return {
    events: training,
    heldOut: heldOut.slice(-config.ml.gate_holdout_rows),
    source: `${source}; held out the last ${heldOut.length} rows from ${new Date(heldOut[0]!.timestampMs).toISOString()}`,
    origin,
    rejectedLines,
  };
}
