// One training run end to end, shared by `logstream train` and the training workflow's activity:
// read rows, train, evaluate on the held-out labeled set, publish to MLflow and maybe promote.
import { writeFile } from 'node:fs/promises';
import { MlflowClient } from '../clients/mlflow/client.js';
import { MlflowUnavailableError } from '../clients/mlflow/errors.js';
import type { PipelineConfig } from '../config/schema.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from '../ml/clientWindow.js';
import { sampleLogsFromDelta } from './deltaSample.js';
import { TrainingDataError } from '../ml/errors.js';
import type { EvaluationMetrics } from '../ml/evaluate.js';
import { evaluateModel } from '../ml/scoreEvents.js';
import { holdoutEvents } from './syntheticHoldout.js';
import { readLogFile } from './logFile.js';
import { serializeModel, type ModelArtifact } from '../ml/model.js';
import { publishModel, type PublishResult } from './registry.js';
import { trainModel, type TrainingProgress } from '../ml/train.js';
import { trafficOrigin } from './trafficOrigin.js';
import type { TrafficOrigin } from '../ml/model.js';

export interface TrainingRunOptions {
  config: PipelineConfig;
  /** JSON-lines or combined-log file to train on. */
  dataFile?: string;
  /** Rows already in memory; used when no dataFile is given. Without either, a sample of the Delta logs table. */
  events?: readonly LogEvent[];
  /** Where the rows came from when `events` is given. */
  source?: string;
  /** Whether the rows are the site's own or generated (default: told by their labels, see trafficOrigin). */
  origin?: TrafficOrigin;
  seed?: number;
  /** Publish to MLflow and consider promotion (default true). */
  register?: boolean;
  /** Also write the model artifact to this file. */
  outFile?: string;
  /** Rows of the generated held-out labeled set (default HOLDOUT_ROWS). */
  holdoutRows?: number;
  onProgress?: (event: TrainingProgress | { stage: 'reading'; lines: number } | { stage: 'publishing'; message: string }) => void;
}

export interface TrainingRunResult {
  model: ModelArtifact;
  holdout: EvaluationMetrics;
  published?: PublishResult;
  outFile?: string;
  rejectedLines: number;
}

export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunResult> {
  const { config } = options;
  const register = options.register ?? true;
  const seed = options.seed ?? config.ml.seed;
  const client = new MlflowClient({ trackingUri: config.mlflow.tracking_uri });
  // Fail before spending minutes on training when the registry is down.
  if (register && !(await client.healthy())) throw new MlflowUnavailableError(config.mlflow.tracking_uri, new Error('GET /health failed'));

  let events: readonly LogEvent[];
  let clientStats: readonly ClientStats[] | undefined;
  let source: string;
  let rejectedLines = 0;
  if (options.dataFile) {
    const contents = await readLogFile(options.dataFile, { onProgress: (lines) => options.onProgress?.({ stage: 'reading', lines }) });
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
    const sample = await sampleLogsFromDelta({
      root: config.delta.root,
      lookbackHours: config.ml.lookback_hours,
      samples: config.ml.training_samples,
      seed,
    });
    events = sample.events;
    clientStats = sample.clientStats;
    source = sample.source;
  }

  const { model } = await trainModel(events, {
    kMin: config.ml.k_min,
    kMax: config.ml.k_max,
    seed,
    thresholdPercentile: config.ml.threshold_percentile,
    source,
    origin: options.origin ?? (clientStats ? 'site' : trafficOrigin(events)),
    clientStats,
    onProgress: options.onProgress,
  });
  if (options.outFile) await writeFile(options.outFile, serializeModel(model));

  const holdout = holdoutEvents(seed, options.holdoutRows);
  if (!register) {
    const { metrics } = await evaluateModel(model, holdout);
    return { model, holdout: metrics, outFile: options.outFile, rejectedLines };
  }
  const published = await publishModel({
    client,
    experiment: config.mlflow.experiment,
    registeredModel: config.mlflow.registered_model,
    model,
    holdout,
    params: {
      k_min: config.ml.k_min,
      k_max: config.ml.k_max,
      seed,
      threshold_percentile: config.ml.threshold_percentile,
      holdout_rows: holdout.length,
    },
    onProgress: (message) => options.onProgress?.({ stage: 'publishing', message }),
  });
  return { model, holdout: published.holdout, published, outFile: options.outFile, rejectedLines };
}
