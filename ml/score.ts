// Scoring on standardised rows: one matrix product per batch gives every distance, nearest normal cluster, score
// = distance / that cluster's calibrated radius, and the features that explain an anomaly.
import { initBackend, tf } from './backend.js';
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

/** The features along which a row sits furthest from its cluster centre, largest first. */
export function explainRow(
  model: Pick<ModelArtifact, 'centroids' | 'featureSpec'>,
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
  const deviationOf = (feature: number) => round(standardised[row * stride + feature]! - centroid[feature]!);
  // The maxReasons largest |deviation|s, earlier features first on ties, without sorting them all.
  const top: number[] = [];
  const sizes: number[] = [];
  for (let feature = 0; feature < width; feature += 1) {
    const deviation = standardised[row * stride + feature]! - centroid[feature]!;
    if (deviation === 0) continue;
    const size = Math.abs(round(deviation));
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
