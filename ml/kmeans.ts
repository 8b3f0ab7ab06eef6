// K-means as batched TensorFlow.js work: k-means++ seeding, Lloyd iterations, silhouette.
// Rows are "augmented" as [x, 1, ||x||²] so that one plain matrix product gives every squared
// distance ||x||² - 2x·c + ||c||² (broadcasts and transposed products are slow on the WASM backend).
// Seeded and single-threaded, so the same data and seed give the same centroids.
import { createRandom, type Random } from '../common/random.js';
import { initBackend, tf } from './backend.js';

export interface KMeansOptions {
  seed: number;
  maxIterations?: number;
  /** Stop when no centroid moves further than this (in standardised units). */
  tolerance?: number;
}

export interface KMeansResult {
  k: number;
  /** Row-major k × featureCount. */
  centroids: Float32Array;
  assignments: Int32Array;
  /** Euclidean distance of each row to its centroid. */
  distances: Float32Array;
  /** Sum of squared distances. */
  inertia: number;
  iterations: number;
}

/** Row-major n × (featureCount + 2): each row followed by 1 and its squared norm. */
export function augmentRows(rows: Float32Array, featureCount: number): Float32Array {
  const count = rows.length / featureCount;
  const width = featureCount + 2;
  const out = new Float32Array(count * width);
  for (let row = 0; row < count; row += 1) {
    let norm = 0;
    for (let feature = 0; feature < featureCount; feature += 1) {
      const value = rows[row * featureCount + feature]!;
      out[row * width + feature] = value;
      norm += value * value;
    }
    out[row * width + featureCount] = 1;
    out[row * width + featureCount + 1] = norm;
  }
  return out;
}

/**
 * (featureCount + 2) × k matrix W with augmented rows · W = squared distances to each centroid,
 * optionally divided by scale[j] and plus offset[j] per column.
 */
export function distanceMatrix(
  centroids: Float32Array,
  featureCount: number,
  divisors?: readonly number[],
  offsets?: readonly number[],
): Float32Array {
  const k = centroids.length / featureCount;
  const out = new Float32Array((featureCount + 2) * k);
  for (let cluster = 0; cluster < k; cluster += 1) {
    const divisor = divisors?.[cluster] ?? 1;
    let norm = 0;
    for (let feature = 0; feature < featureCount; feature += 1) {
      const value = centroids[cluster * featureCount + feature]!;
      out[feature * k + cluster] = (-2 * value) / divisor;
      norm += value * value;
    }
    out[featureCount * k + cluster] = norm / divisor + (offsets?.[cluster] ?? 0);
    out[(featureCount + 1) * k + cluster] = 1 / divisor;
  }
  return out;
}

/** k-means++ seeding: each next centre drawn with probability proportional to D². */
export async function kmeansPlusPlus(
  points: tf.Tensor2D,
  rows: Float32Array,
  featureCount: number,
  k: number,
  random: Random,
): Promise<Float32Array> {
  const count = rows.length / featureCount;
  const centroids = new Float32Array(k * featureCount);
  const minDistances = new Float32Array(count).fill(Number.POSITIVE_INFINITY);
  let chosen = Math.floor(random.next() * count);
  for (let centre = 0; centre < k; centre += 1) {
    const row = rows.subarray(chosen * featureCount, (chosen + 1) * featureCount);
    centroids.set(row, centre * featureCount);
    if (centre === k - 1) break;
    const distances = tf.tidy(() => tf.relu(tf.matMul(points, tf.tensor2d(distanceMatrix(row, featureCount), [featureCount + 2, 1]))));
    const values = (await distances.data()) as Float32Array;
    distances.dispose();
    for (let index = 0; index < count; index += 1) if (values[index]! < minDistances[index]!) minDistances[index] = values[index]!;
    chosen = drawProportional(minDistances, random);
  }
  return centroids;
}

/**
 * Tensor reads resolve as microtasks, so a long fit would never let timers run: a worker's
 * heartbeats would stop. Each iteration gives the event loop a turn.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function drawProportional(weights: Float32Array, random: Random): number {
  let total = 0;
  for (const weight of weights) total += weight;
  if (!(total > 0)) return Math.floor(random.next() * weights.length);
  let target = random.next() * total;
  for (let index = 0; index < weights.length; index += 1) {
    target -= weights[index]!;
    if (target <= 0) return index;
  }
  return weights.length - 1;
}

export async function fitKMeans(rows: Float32Array, featureCount: number, k: number, options: KMeansOptions): Promise<KMeansResult> {
  await initBackend();
  const count = rows.length / featureCount;
  if (k < 1 || k > count) throw new RangeError(`k must be between 1 and the number of rows (${count}), got ${k}`);
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-4;
  const width = featureCount + 2;
  const points = tf.tensor2d(augmentRows(rows, featureCount), [count, width]);
  try {
    let centroids = await kmeansPlusPlus(points, rows, featureCount, k, createRandom(options.seed));
    let iterations = 0;
    while (iterations < maxIterations) {
      iterations += 1;
      await yieldToEventLoop();
      // Sums per cluster of [x, 1, ||x||²]: centroid numerators and member counts in one product.
      const sums = tf.tidy(() => {
        const index = tf.argMin(tf.matMul(points, tf.tensor2d(distanceMatrix(centroids, featureCount), [width, k])), 1);
        return tf.matMul(tf.transpose(tf.oneHot(index, k).toFloat()), points);
      });
      const totals = (await sums.data()) as Float32Array;
      sums.dispose();
      const next = new Float32Array(centroids);
      let largestShift = 0;
      for (let cluster = 0; cluster < k; cluster += 1) {
        const size = totals[cluster * width + featureCount]!;
        if (size === 0) continue; // an emptied cluster keeps its centroid
        for (let feature = 0; feature < featureCount; feature += 1) {
          const value = totals[cluster * width + feature]! / size;
          largestShift = Math.max(largestShift, Math.abs(value - centroids[cluster * featureCount + feature]!));
          next[cluster * featureCount + feature] = value;
        }
      }
      centroids = next;
      if (largestShift <= tolerance) break;
    }
    const [index, squared] = tf.tidy(() => {
      const matrix = tf.relu(tf.matMul(points, tf.tensor2d(distanceMatrix(centroids, featureCount), [width, k])));
      return [tf.argMin(matrix, 1), tf.min(matrix, 1)] as const;
    });
    const assignments = Int32Array.from(await index.data());
    const squaredDistances = (await squared.data()) as Float32Array;
    index.dispose();
    squared.dispose();
    let inertia = 0;
    const distances = new Float32Array(count);
    for (let row = 0; row < count; row += 1) {
      inertia += squaredDistances[row]!;
      distances[row] = Math.sqrt(squaredDistances[row]!);
    }
    return { k, centroids, assignments, distances, inertia, iterations };
  } finally {
    points.dispose();
  }
}

/**
 * Mean silhouette over a seeded sample: (b - a) / max(a, b) per row, where a is the mean distance
 * to its own cluster and b to the nearest other cluster. One pairwise distance matrix on the sample.
 */
export async function silhouetteScore(
  rows: Float32Array,
  featureCount: number,
  assignments: Int32Array,
  k: number,
  sampleSize: number,
  seed: number,
): Promise<number> {
  await initBackend();
  const count = rows.length / featureCount;
  const sample = sampleIndices(count, Math.min(sampleSize, count), createRandom(seed ^ 0x51e7));
  const sampleRows = new Float32Array(sample.length * featureCount);
  for (const [position, row] of sample.entries())
    sampleRows.set(rows.subarray(row * featureCount, (row + 1) * featureCount), position * featureCount);
  const matrix = tf.tidy(() =>
    tf.sqrt(
      tf.relu(
        tf.matMul(
          tf.tensor2d(augmentRows(sampleRows, featureCount), [sample.length, featureCount + 2]),
          tf.tensor2d(distanceMatrix(sampleRows, featureCount), [featureCount + 2, sample.length]),
        ),
      ),
    ),
  );
  const distances = (await matrix.data()) as Float32Array;
  matrix.dispose();
  const labels = sample.map((row) => assignments[row]!);
  const sizes = new Float64Array(k);
  for (const label of labels) sizes[label] += 1;
  let total = 0;
  const sums = new Float64Array(k);
  for (let position = 0; position < sample.length; position += 1) {
    sums.fill(0);
    const offset = position * sample.length;
    for (let other = 0; other < sample.length; other += 1) sums[labels[other]!] += distances[offset + other]!;
    const own = labels[position]!;
    if (sizes[own]! <= 1) continue; // silhouette of a singleton is 0 by convention
    const within = sums[own]! / (sizes[own]! - 1);
    let between = Number.POSITIVE_INFINITY;
    for (let cluster = 0; cluster < k; cluster += 1) {
      if (cluster !== own && sizes[cluster]! > 0) between = Math.min(between, sums[cluster]! / sizes[cluster]!);
    }
    if (Number.isFinite(between)) total += (between - within) / Math.max(within, between, 1e-12);
  }
  return total / sample.length;
}

function sampleIndices(count: number, size: number, random: Random): number[] {
  if (size >= count) return Array.from({ length: count }, (_, index) => index);
  const chosen = new Set<number>();
  while (chosen.size < size) chosen.add(Math.floor(random.next() * count));
  return [...chosen].sort((a, b) => a - b);
}
