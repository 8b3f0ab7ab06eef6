// Trains the anomaly model: features, scaler, K-means for each k in range (best silhouette wins),
// per-cluster radii and a threshold calibrated on the training rows.
import type { LogEvent } from '../logs/record.js';
import { initBackend } from './backend.js';
import { ClientWindow } from './clientWindow.js';
import { TrainingDataError } from './errors.js';
import { extractFeatures, FEATURE_COUNT, FEATURE_KINDS, FEATURE_NAMES, FEATURE_SPEC_ID, FEATURE_WEIGHTS, fitVocabulary } from './features.js';
import { fitKMeans, silhouetteScore, type KMeansResult } from './kmeans.js';
import { MODEL_KIND, MODEL_SCHEMA_VERSION, type ClusterProfile, type KCandidate, type ModelArtifact } from './model.js';
import { applyScaler, fitScaler } from './scaler.js';
import { scoreStandardisedRows, scoringTensors } from './score.js';

export interface TrainOptions {
  kMin: number;
  kMax: number;
  seed: number;
  /** Percentile of training distances that sets each cluster's radius (config ml.threshold_percentile). */
  thresholdPercentile: number;
  /** Where the rows came from, recorded in the model (file name, table and window). */
  source: string;
  silhouetteSample?: number;
  onProgress?: (progress: TrainingProgress) => void;
}

export type TrainingProgress =
  | { stage: 'features'; rows: number }
  | { stage: 'kmeans'; k: number; silhouette: number; inertia: number; iterations: number; done: number; total: number }
  | { stage: 'calibrate' };

export interface TrainingResult {
  model: ModelArtifact;
  candidates: KCandidate[];
}

export const MIN_TRAINING_ROWS = 200;
/** Clusters holding less than this share of training rows are treated as outliers, not normal behaviour. */
export const MIN_NORMAL_CLUSTER_FRACTION = 0.005;
/**
 * The anomaly threshold in units of a cluster's radius. The radius already sits at the calibration
 * percentile of normal distances, so 1 would flag (100 - p)% of normal traffic by construction; the
 * margin keeps false alarms well under that while anomalies score many radii out.
 */
export const THRESHOLD_MARGIN = 1.5;

export async function trainModel(events: readonly LogEvent[], options: TrainOptions): Promise<TrainingResult> {
  if (events.length < MIN_TRAINING_ROWS) {
    throw new TrainingDataError(`training needs at least ${MIN_TRAINING_ROWS} rows, got ${events.length}`, 'generate some with `logstream generate --training-data 10000 --out FILE`');
  }
  if (options.kMin > options.kMax) throw new TrainingDataError(`ml.k_min (${options.kMin}) is larger than ml.k_max (${options.kMax})`);
  const startedMs = performance.now();
  const backend = await initBackend();
  const ordered = [...events].sort((a, b) => a.timestampMs - b.timestampMs);

  const vocabulary = fitVocabulary(ordered);
  const raw = extractFeatures(ordered, new ClientWindow(), vocabulary);
  options.onProgress?.({ stage: 'features', rows: ordered.length });
  const scaler = fitScaler(raw, FEATURE_COUNT, FEATURE_WEIGHTS, FEATURE_KINDS);
  const rows = applyScaler(scaler, raw);

  const candidates: KCandidate[] = [];
  let best: { result: KMeansResult; silhouette: number } | undefined;
  const kMax = Math.min(options.kMax, ordered.length - 1);
  for (let k = options.kMin; k <= kMax; k += 1) {
    const result = await fitKMeans(rows, FEATURE_COUNT, k, { seed: options.seed });
    const silhouette = await silhouetteScore(rows, FEATURE_COUNT, result.assignments, k, options.silhouetteSample ?? 2_000, options.seed);
    candidates.push({ k, silhouette, inertia: result.inertia, iterations: result.iterations });
    options.onProgress?.({ stage: 'kmeans', k, silhouette, inertia: result.inertia, iterations: result.iterations, done: k - options.kMin + 1, total: kMax - options.kMin + 1 });
    if (!best || silhouette > best.silhouette + 1e-9) best = { result, silhouette };
  }
  options.onProgress?.({ stage: 'calibrate' });
  const chosen = best!.result;
  const clusters = profileClusters(chosen, options.thresholdPercentile);
  const centroids = Array.from({ length: chosen.k }, (_, cluster) => Array.from(chosen.centroids.subarray(cluster * FEATURE_COUNT, (cluster + 1) * FEATURE_COUNT)));

  const tensors = scoringTensors({ centroids, clusters });
  const { scores } = await scoreStandardisedRows(tensors, rows, FEATURE_COUNT);
  tensors.dispose();
  const threshold = THRESHOLD_MARGIN;
  let flagged = 0;
  for (const score of scores) if (score > threshold) flagged += 1;

  const model: ModelArtifact = {
    schemaVersion: MODEL_SCHEMA_VERSION,
    kind: MODEL_KIND,
    featureSpec: { id: FEATURE_SPEC_ID, names: [...FEATURE_NAMES], weights: [...FEATURE_WEIGHTS] },
    vocabulary,
    scaler,
    centroids,
    clusters,
    threshold,
    thresholdPercentile: options.thresholdPercentile,
    training: {
      rows: ordered.length,
      seed: options.seed,
      k: chosen.k,
      candidates,
      trainingSeconds: (performance.now() - startedMs) / 1000,
      flaggedFraction: flagged / ordered.length,
      source: options.source,
    },
    backend: backend.name,
    createdAt: new Date().toISOString(),
  };
  return { model, candidates };
}

function profileClusters(result: KMeansResult, percentile: number): ClusterProfile[] {
  const members: number[][] = Array.from({ length: result.k }, () => []);
  result.assignments.forEach((cluster, row) => members[cluster]!.push(result.distances[row]!));
  const total = result.assignments.length;
  return members.map((distances) => {
    const sorted = Float64Array.from(distances).sort();
    const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0);
    return {
      size: distances.length,
      fraction: distances.length / total,
      radius: Math.max(at(percentile), 1e-3),
      normal: distances.length / total >= MIN_NORMAL_CLUSTER_FRACTION,
      distancePercentiles: { p50: at(50), p90: at(90), p99: at(99) },
    };
  });
}
