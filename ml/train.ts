// Trains the anomaly model: features, scaler, K-means for each k in range (best silhouette wins),
// per-cluster radii and a threshold calibrated on the training rows.
import type { LogEvent } from '../logs/record.js';
import { initBackend } from './backend.js';
import { ClientWindow, type ClientStats } from './clientWindow.js';
import { TrainingDataError } from './errors.js';
import { isAttackLabel } from './evaluate.js';
import {
  extractFeatures,
  FEATURE_COUNT,
  FEATURE_KINDS,
  FEATURE_NAMES,
  FEATURE_SPEC_ID,
  FEATURE_WEIGHTS,
  fitVocabulary,
} from './features.js';
import { augmentRows, fitKMeans, silhouetteScore, type KMeansResult } from './kmeans.js';
import { MODEL_KIND, MODEL_SCHEMA_VERSION, type ClusterProfile, type KCandidate, type ModelArtifact, type TrafficOrigin } from './model.js';
import { applyScaler, fitScaler } from './scaler.js';
import { applyFeatureScores, scoreAugmentedRows, scoringTensors, spreadTables } from './score.js';

export interface TrainOptions {
  kMin: number;
  kMax: number;
  seed: number;
  /** Percentile of training distances that sets each cluster's radius (config ml.threshold_percentile). */
  thresholdPercentile: number;
  /** Where the rows came from, recorded in the model (file name, table and window). */
  source: string;
  /** Whether the rows are a site's own traffic or generated (recorded as training.origin). */
  origin: TrafficOrigin;
  silhouetteSample?: number;
  /**
   * Per event, its client's statistics as recorded when it was sampled (sampleLogsFromDelta).
   * Without them, a client window is run over the events in time order, which suits contiguous
   * traffic such as a log file or generated training data.
   */
  clientStats?: readonly ClientStats[];
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
    throw new TrainingDataError(
      `training needs at least ${MIN_TRAINING_ROWS} rows, got ${events.length}`,
      'generate some with `logstream generate --training-data 10000 --out FILE`',
    );
  }
  if (options.kMin > options.kMax) throw new TrainingDataError(`ml.k_min (${options.kMin}) is larger than ml.k_max (${options.kMax})`);
  const startedMs = performance.now();
  const backend = await initBackend();
  const order = events.map((_, index) => index).sort((a, b) => events[a]!.timestampMs - events[b]!.timestampMs);
  const ordered = order.map((index) => events[index]!);
  const recorded = options.clientStats;
  if (recorded && recorded.length !== events.length)
    throw new RangeError(`${recorded.length} client statistics for ${events.length} training rows`);

  // Rows labeled as an attack (a generated training file labels its episodes) are neither part of
  // the site's vocabulary and baselines nor fitted as normal; unlabeled rows, a real site's, all are.
  const vocabulary = fitVocabulary(ordered.filter((event) => !isAttackLabel(event.label)));
  const allRaw = extractFeatures(ordered, recorded ? order.map((index) => recorded[index]!) : new ClientWindow(), vocabulary);
  options.onProgress?.({ stage: 'features', rows: ordered.length });
  // Every row fed the client window above; the model learns from at most MAX_ROWS_PER_CLIENT_MINUTE
  // rows of a client per minute. An attack inside the training rows is a burst of one or a few
  // clients (a flood, a scan); left whole, it can be big enough to form a cluster of "normal"
  // behaviour. The rows kept still carry the burst's true request rate.
  const fitted = rowsWithCap(
    ordered.map((event) => `${event.clientIp} ${Math.floor(event.timestampMs / 60_000)}`),
    MAX_ROWS_PER_CLIENT_MINUTE,
  ).filter((index) => !isAttackLabel(ordered[index]!.label));
  const raw = selectRows(allRaw, fitted, FEATURE_COUNT);
  const clientIps = fitted.map((index) => ordered[index]!.clientIp);
  const scaler = fitScaler(raw, FEATURE_COUNT, FEATURE_WEIGHTS, FEATURE_KINDS);
  const rows = applyScaler(scaler, raw);

  const candidates: KCandidate[] = [];
  let best: { result: KMeansResult; silhouette: number } | undefined;
  const kMax = Math.min(options.kMax, fitted.length - 1);
  for (let k = options.kMin; k <= kMax; k += 1) {
    const result = await fitKMeans(rows, FEATURE_COUNT, k, { seed: options.seed });
    const silhouette = await silhouetteScore(rows, FEATURE_COUNT, result.assignments, k, options.silhouetteSample ?? 2_000, options.seed);
    candidates.push({ k, silhouette, inertia: result.inertia, iterations: result.iterations });
    options.onProgress?.({
      stage: 'kmeans',
      k,
      silhouette,
      inertia: result.inertia,
      iterations: result.iterations,
      done: k - options.kMin + 1,
      total: kMax - options.kMin + 1,
    });
    if (!best || silhouette > best.silhouette + 1e-9) best = { result, silhouette };
  }
  options.onProgress?.({ stage: 'calibrate' });
  const chosen = best!.result;
  const clusters = profileClusters(chosen, options.thresholdPercentile, clientIps, rows);
  const centroids = Array.from({ length: chosen.k }, (_, cluster) =>
    Array.from(chosen.centroids.subarray(cluster * FEATURE_COUNT, (cluster + 1) * FEATURE_COUNT)),
  );

  const tensors = scoringTensors({ centroids, clusters });
  const augmented = augmentRows(rows, FEATURE_COUNT);
  const { scores, clusters: nearest } = await scoreAugmentedRows(tensors, augmented, FEATURE_COUNT);
  tensors.dispose();
  applyFeatureScores(spreadTables({ centroids, clusters }), augmented, FEATURE_COUNT + 2, nearest, scores, THRESHOLD_MARGIN);
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
      flaggedFraction: flagged / fitted.length,
      source: options.source,
      origin: options.origin,
    },
    backend: backend.name,
    createdAt: new Date().toISOString(),
  };
  return { model, candidates };
}

/** Rows of one client in one minute that the model is fitted on at most. */
const MAX_ROWS_PER_CLIENT_MINUTE = 60;

/** Indices of the rows to fit, in order: all rows of a key, or `cap` of them evenly spread (pure). */
export function rowsWithCap(keys: readonly string[], cap: number): number[] {
  const totals = new Map<string, number>();
  for (const key of keys) totals.set(key, (totals.get(key) ?? 0) + 1);
  const seen = new Map<string, number>();
  const kept: number[] = [];
  keys.forEach((key, index) => {
    const nth = seen.get(key) ?? 0;
    seen.set(key, nth + 1);
    const total = totals.get(key)!;
    // Keep the nth request when it crosses one of `cap` evenly spaced marks.
    if (total <= cap || Math.floor(((nth + 1) * cap) / total) > Math.floor((nth * cap) / total)) kept.push(index);
  });
  return kept;
}

function selectRows(rows: Float32Array, indices: readonly number[], width: number): Float32Array {
  if (indices.length * width === rows.length) return rows;
  const out = new Float32Array(indices.length * width);
  for (const [at, row] of indices.entries()) out.set(rows.subarray(row * width, (row + 1) * width), at * width);
  return out;
}

function profileClusters(result: KMeansResult, percentile: number, clientIps: readonly string[], rows: Float32Array): ClusterProfile[] {
  const members: number[][] = Array.from({ length: result.k }, () => []);
  for (const [row, cluster] of result.assignments.entries()) members[cluster]!.push(result.distances[row]!);
  const topClientShares = topClientShare(result.assignments, result.k, clientIps);
  const total = result.assignments.length;
  const at = (values: ArrayLike<number>, p: number) =>
    values.length ? values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]! : 0;
  const profiles = members.map((distances) => {
    const sorted = Float64Array.from(distances).sort();
    const core = coreDistances(sorted);
    return {
      size: distances.length,
      fraction: distances.length / total,
      radius: Math.max(at(core, percentile), 1e-3),
      normal: distances.length / total >= MIN_NORMAL_CLUSTER_FRACTION,
      distancePercentiles: { p50: at(sorted, 50), p90: at(sorted, 90), p99: at(sorted, 99) },
      fence: core.length ? core[core.length - 1]! : 0,
    };
  });
  const siteSpreads = featureSpreads(
    result,
    rows,
    -1,
    profiles.map((profile) => profile.fence),
  );
  const finished: ClusterProfile[] = profiles.map(({ fence: _fence, ...profile }, cluster) => {
    const own = featureSpreads(
      result,
      rows,
      cluster,
      profiles.map((entry) => entry.fence),
    );
    return { ...profile, spreads: own.map((spread, feature) => Math.max(spread, siteSpreads[feature]!)) };
  });
  // Anomalies in the training rows can gather into a cluster of their own: small, and far more
  // spread out than the clusters of ordinary traffic. Such a cluster is not normal behaviour.
  const typicalRadius = weightedMedian(finished.map((profile) => [profile.radius, profile.size] as const));
  // Or they gather one client's attack (a scan, a flood): ordinary behaviour is shared by many clients.
  finished.forEach((profile, cluster) => {
    if (profile.fraction >= MAX_OUTLIER_CLUSTER_FRACTION) return;
    if (profile.radius > OUTLIER_CLUSTER_SPREAD * typicalRadius || topClientShares[cluster]! > MAX_SINGLE_CLIENT_SHARE)
      profile.normal = false;
  });
  return finished;
}

/** The spread is this percentile of the core rows' deviations along the feature... */
const SPREAD_PERCENTILE = 99.9;
/** ...and at least this (in scaled units): an indicator that never varied in the cluster still needs a weight of 1.5 to count. */
const SPREAD_FLOOR = 0.5;

/**
 * Per feature, how far core rows (distance within their cluster's fence) stray from their centre:
 * the rows of one cluster, or with cluster -1 of all clusters. A cluster's spread is at least the
 * site's: a feature that is often off in ordinary traffic (an endpoint outside the vocabulary)
 * does not count by itself because one cluster happens to hold few such rows.
 */
function featureSpreads(result: KMeansResult, rows: Float32Array, cluster: number, fences: readonly number[]): number[] {
  const width = FEATURE_COUNT;
  const deviations: number[][] = Array.from({ length: width }, () => []);
  for (let row = 0; row < result.assignments.length; row += 1) {
    const own = result.assignments[row]!;
    if ((cluster >= 0 && own !== cluster) || result.distances[row]! > fences[own]!) continue;
    for (let feature = 0; feature < width; feature += 1)
      deviations[feature]!.push(Math.abs(rows[row * width + feature]! - result.centroids[own * width + feature]!));
  }
  return deviations.map((values) => {
    const sorted = Float64Array.from(values).sort();
    const value = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((SPREAD_PERCENTILE / 100) * sorted.length))]! : 0;
    return Math.round(Math.max(value, SPREAD_FLOOR) * 1e4) / 1e4;
  });
}

/** Per cluster, the share of its rows that its busiest client sent. */
function topClientShare(assignments: Int32Array, k: number, clientIps: readonly string[]): number[] {
  const perCluster = Array.from({ length: k }, () => new Map<string, number>());
  const sizes = new Array<number>(k).fill(0);
  assignments.forEach((cluster, row) => {
    const counts = perCluster[cluster]!;
    counts.set(clientIps[row]!, (counts.get(clientIps[row]!) ?? 0) + 1);
    sizes[cluster]! += 1;
  });
  return perCluster.map((counts, cluster) => (sizes[cluster] ? Math.max(...counts.values()) / sizes[cluster]! : 0));
}

/**
 * A cluster with less than this share of rows gathers outliers when it is OUTLIER_CLUSTER_SPREAD
 * times as spread as the typical one, or when one client sent more than MAX_SINGLE_CLIENT_SHARE of it.
 */
const MAX_OUTLIER_CLUSTER_FRACTION = 0.05;
const OUTLIER_CLUSTER_SPREAD = 2;
const MAX_SINGLE_CLIENT_SHARE = 0.5;

function weightedMedian(values: readonly (readonly [number, number])[]): number {
  const sorted = [...values].sort((a, b) => a[0] - b[0]);
  const half = sorted.reduce((sum, [, weight]) => sum + weight, 0) / 2;
  let seen = 0;
  for (const [value, weight] of sorted) {
    seen += weight;
    if (seen >= half) return value;
  }
  return sorted.at(-1)?.[0] ?? 0;
}

/** Robust fence: distances beyond the median plus this many (normal-consistent) MADs are outliers. */
const OUTLIER_FENCE_MADS = 6;

/**
 * Training data holds anomalies too (a few percent of real traffic), often more than the
 * (100 - percentile)% the radius percentile leaves out, which would push the radius into anomaly
 * territory. The radius is therefore taken over the cluster's core: distances inside a median +
 * MAD fence, which the anomalies' far-away distances cannot move.
 */
function coreDistances(sorted: Float64Array): Float64Array {
  if (sorted.length < 10) return sorted;
  const median = sorted[sorted.length >> 1]!;
  const deviations = sorted.map((value) => Math.abs(value - median)).sort();
  const mad = 1.4826 * deviations[deviations.length >> 1]!;
  if (!(mad > 0)) return sorted;
  const fence = median + OUTLIER_FENCE_MADS * mad;
  let end = sorted.length;
  while (end > 0 && sorted[end - 1]! > fence) end -= 1;
  return sorted.subarray(0, Math.max(end, 1));
}
