// Scoring on standardised rows: one matrix product per batch gives every distance, nearest normal cluster, score
// = distance / that cluster's calibrated radius, and the features that explain an anomaly.
import { initBackend, tf } from './backend.js';
import { FEATURE_DIRECTIONS, FEATURE_ROLES } from './features.js';
import { augmentRows, distanceMatrix } from './kmeans.js';
import type { ModelArtifact } from './model.js';
import type { AnomalyReason } from './scorer.js';

/** Added to the normalised squared distance of non-normal clusters so they are never the reference. */
const OUTLIER_CLUSTER_PENALTY = 1e12;

export interface RowScores {
  scores: Float32Array;
  clusters: Int32Array;
}

/** The model's distance matrix, kept on the backend for the life of a scorer. */
export interface ScoringTensors {
  weights: tf.Tensor2D;
  featureCount: number;
  dispose(): void;
}

export function scoringTensors(model: Pick<ModelArtifact, 'centroids' | 'clusters'>): ScoringTensors {
  const featureCount = model.centroids[0]!.length;
  const k = model.centroids.length;
  const centroids = Float32Array.from(model.centroids.flat());
  // Columns give d²/r² per cluster, so the minimum over columns is the squared score.
  const divisors = model.clusters.map((cluster) => cluster.radius * cluster.radius);
  const offsets = model.clusters.map((cluster) => (cluster.normal ? 0 : OUTLIER_CLUSTER_PENALTY));
  const weights = tf.tensor2d(distanceMatrix(centroids, featureCount, divisors, offsets), [featureCount + 2, k]);
  return { weights, featureCount, dispose: () => weights.dispose() };
}

export async function scoreStandardisedRows(tensors: ScoringTensors, rows: Float32Array, featureCount: number): Promise<RowScores> {
  return scoreAugmentedRows(tensors, augmentRows(rows, featureCount), featureCount);
}

/** Scores rows already in the augmented layout [z, 1, ||z||²] (applyScalerAugmented). */
export async function scoreAugmentedRows(tensors: ScoringTensors, augmented: Float32Array, featureCount: number): Promise<RowScores> {
  await initBackend();
  const count = augmented.length / (featureCount + 2);
  if (count === 0) return { scores: new Float32Array(0), clusters: new Int32Array(0) };
  const [squaredScore, cluster] = tf.tidy(() => {
    const normalised = tf.matMul(tf.tensor2d(augmented, [count, featureCount + 2]), tensors.weights);
    return [tf.min(normalised, 1), tf.argMin(normalised, 1)] as const;
  });
  const [squared, clusters] = await Promise.all([squaredScore.data() as Promise<Float32Array>, cluster.data() as Promise<Int32Array>]);
  squaredScore.dispose();
  cluster.dispose();
  const scores = new Float32Array(count);
  for (let row = 0; row < count; row += 1) scores[row] = Math.sqrt(Math.max(0, squared[row]!));
  return { scores, clusters };
}

/**
 * A row more than FEATURE_MARGIN spreads from its cluster's centre along one feature is anomalous
 * whatever its distance: K-means distance adds up every feature's deviation, so in a cluster of
 * varied traffic one feature far beyond anything the cluster's ordinary rows do (a script tag in
 * the query, a client failing every login) would hide inside the radius.
 */
export const FEATURE_MARGIN = 1.5;

/**
 * Per cluster: inverse spreads for deviations above and below the centre (0 where that side is not
 * suspicious, see FEATURE_DIRECTIONS), radius, and the distance below which no feature can exceed
 * its margin.
 */
export interface SpreadTables {
  featureCount: number;
  /** The features that may flag a row alone (FEATURE_ROLES). */
  checked: Int32Array;
  /**
   * Per cluster, its checked features in ascending order of spread, each as five numbers: feature
   * index, centre, inverse spread above, inverse spread below, and the margin in distance units
   * (FEATURE_MARGIN × spread). A feature's deviation is at most the row's whole distance, so once
   * the margin exceeds the distance no later feature can fire.
   */
  compact: Float32Array;
  centroids: Float32Array;
  above: Float32Array;
  below: Float32Array;
  radii: Float32Array;
  minimumDistances: Float32Array;
}

export function spreadTables(model: Pick<ModelArtifact, 'centroids' | 'clusters'>): SpreadTables {
  const featureCount = model.centroids[0]!.length;
  const k = model.centroids.length;
  const above = new Float32Array(k * featureCount);
  const below = new Float32Array(k * featureCount);
  const minimumDistances = new Float32Array(k);
  model.clusters.forEach((cluster, index) => {
    cluster.spreads.forEach((spread, feature) => {
      if (FEATURE_ROLES[feature] !== 'alone') return;
      const direction = FEATURE_DIRECTIONS[feature] ?? 0;
      above[index * featureCount + feature] = direction >= 0 ? 1 / spread : 0;
      below[index * featureCount + feature] = direction <= 0 ? 1 / spread : 0;
    });
    minimumDistances[index] = FEATURE_MARGIN * Math.min(...cluster.spreads.filter((_, feature) => FEATURE_ROLES[feature] === 'alone'));
  });
  const checked = Int32Array.from(FEATURE_ROLES.flatMap((role, feature) => (role === 'alone' && feature < featureCount ? [feature] : [])));
  const compact = new Float32Array(k * checked.length * 5);
  for (let cluster = 0; cluster < k; cluster += 1) {
    const spreads = model.clusters[cluster]!.spreads;
    const order = [...checked].sort((a, b) => spreads[a]! - spreads[b]! || a - b);
    order.forEach((feature, index) => {
      const at = (cluster * checked.length + index) * 5;
      compact[at] = feature;
      compact[at + 1] = model.centroids[cluster]![feature]!;
      compact[at + 2] = above[cluster * featureCount + feature]!;
      compact[at + 3] = below[cluster * featureCount + feature]!;
      compact[at + 4] = FEATURE_MARGIN * spreads[feature]!;
    });
  }
  return {
    featureCount,
    checked,
    compact,
    centroids: Float32Array.from(model.centroids.flat()),
    above,
    below,
    radii: Float32Array.from(model.clusters.map((cluster) => cluster.radius)),
    minimumDistances,
  };
}

/**
 * Raises each row's score to its largest per-feature deviation in units of FEATURE_MARGIN spreads,
 * scaled so that the margin lands on `threshold`. Features whose margin exceeds the row's whole
 * distance are skipped (they cannot reach it), so a row below the threshold may keep a score a
 * little lower than its largest deviation; which rows are anomalous is exact.
 */
export function applyFeatureScores(
  tables: SpreadTables,
  augmented: Float32Array,
  stride: number,
  clusters: Int32Array,
  scores: Float32Array,
  threshold: number,
): void {
  const { checked, compact, radii, minimumDistances } = tables;
  const width = checked.length;
  const unit = threshold / FEATURE_MARGIN;
  for (let row = 0; row < scores.length; row += 1) {
    const cluster = clusters[row]!;
    const distance = scores[row]! * radii[cluster]!;
    if (distance <= minimumDistances[cluster]!) continue;
    const offset = row * stride;
    const end = (cluster + 1) * width * 5;
    let largest = 0;
    for (let at = cluster * width * 5; at < end && compact[at + 4]! < distance; at += 5) {
      const deviation = augmented[offset + compact[at]!]! - compact[at + 1]!;
      const up = deviation * compact[at + 2]!;
      const down = -deviation * compact[at + 3]!;
      const size = Math.max(up, down);
      if (size > largest) largest = size;
    }
    const featureScore = largest * unit;
    if (featureScore > scores[row]!) scores[row] = featureScore;
  }
}

/** The features along which a row sits furthest from its cluster centre, in units of the cluster's spread, largest first. */
export function explainRow(
  model: Pick<ModelArtifact, 'centroids' | 'featureSpec' | 'clusters'>,
  standardised: Float32Array,
  raw: Float32Array,
  row: number,
  cluster: number,
  maxReasons: number,
  /** Values per standardised row: the feature count, or feature count + 2 for augmented rows. */
  stride = model.featureSpec.names.length,
): AnomalyReason[] {
  const names = model.featureSpec.names;
  const width = names.length;
  const centroid = model.centroids[cluster]!;
  const spreads = model.clusters[cluster]!.spreads;
  const deviationOf = (feature: number) => round(standardised[row * stride + feature]! - centroid[feature]!);
  // The maxReasons largest |deviation| / spread, earlier features first on ties, without sorting them all.
  const top: number[] = [];
  const sizes: number[] = [];
  for (let feature = 0; feature < width; feature += 1) {
    const deviation = standardised[row * stride + feature]! - centroid[feature]!;
    const direction = FEATURE_DIRECTIONS[feature] ?? 0;
    if (deviation === 0 || deviation * direction < 0) continue;
    // Features that only add to the distance need FEATURE_MARGIN times the deviation to come first.
    const size = Math.abs(round(deviation / spreads[feature]! / (FEATURE_ROLES[feature] === 'alone' ? 1 : FEATURE_MARGIN)));
    let at = top.length;
    while (at > 0 && size > sizes[at - 1]!) at -= 1;
    if (at >= maxReasons) continue;
    top.splice(at, 0, feature);
    sizes.splice(at, 0, size);
    if (top.length > maxReasons) {
      top.pop();
      sizes.pop();
    }
  }
  return top.map(
    (feature): AnomalyReason => ({ feature: names[feature]!, value: round(raw[row * width + feature]!), deviation: deviationOf(feature) }),
  );
}

const round = (value: number): number => Math.round(value * 1000) / 1000;
