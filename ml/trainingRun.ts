// One training run end to end, shared by `logstream train` and the training workflow's activity:
// read rows, train, evaluate on the held-out labeled set, publish to MLflow and maybe promote.
import { writeFile } from 'node:fs/promises';
import { createMlflowClient } from '../clients/mlflow/client.js';
import type { PipelineConfig } from '../config/schema.js';
import { createDecoder } from '../logs/decoder.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from './clientWindow.js';
import { sampleLogsFromDelta } from './deltaSample.js';
import { s3SettingsFromConfig } from '../clients/delta/index.js';
import { TrainingDataError } from './errors.js';
import type { EvaluationMetrics } from './evaluate.js';
import { evaluateModel, holdoutEvents } from './holdout.js';
import { readLogFile } from './logFile.js';
import { serializeModel, type ModelArtifact } from './model.js';
import { publishModel, type PublishResult } from './registry.js';
import { trainModel, type TrainingProgress } from './train.js';

export interface TrainingRunOptions {
  config: PipelineConfig;
  /** JSON-lines or combined-log file to train on. */
  dataFile?: string;
  /** Rows already in memory; used when no dataFile is given. Without either, a sample of the Delta logs table. */
  events?: readonly LogEvent[];
  /** Where the rows came from when `events` is given. */
  source?: string;
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
  const client = createMlflowClient(config.mlflow);
  // Fail before spending minutes on training when the registry is down or refuses the credentials.
  if (register) await client.checkAccess();

  let events: readonly LogEvent[];
  let clientStats: readonly ClientStats[] | undefined;
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
    const sample = await sampleLogsFromDelta({
      root: config.delta.root,
      storage: { s3: s3SettingsFromConfig(config.s3) },
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
