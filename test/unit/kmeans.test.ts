import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRandom } from '../../common/random.js';
import { activeBackend, initBackend } from '../../ml/backend.js';
import { fitKMeans, silhouetteScore } from '../../ml/kmeans.js';
import { applyScaler, fitScaler } from '../../ml/scaler.js';

/** Three well separated 2-D blobs of 300 points each, centred at (0,0), (10,0) and (0,10). */
function blobs(seed: number): { rows: Float32Array; truth: number[] } {
  const random = createRandom(seed);
  const centres = [
    [0, 0],
    [10, 0],
    [0, 10],
  ] as const;
  const rows = new Float32Array(900 * 2);
  const truth: number[] = [];
  for (let index = 0; index < 900; index += 1) {
    const centre = centres[index % 3]!;
    rows[index * 2] = centre[0] + random.normal() * 0.5;
    rows[index * 2 + 1] = centre[1] + random.normal() * 0.5;
    truth.push(index % 3);
  }
  return { rows, truth };
}

describe('k-means on TensorFlow.js', () => {
  it('runs on a real backend (tfjs-node absent here, so WASM) and reports it', async () => {
    const choice = await initBackend();
    assert.ok(['tensorflow', 'wasm', 'cpu'].includes(choice.name));
    assert.equal(activeBackend(), choice.name);
    if (choice.name !== 'tensorflow') assert.ok(choice.skipped.some((line) => line.startsWith('tensorflow:')));
  });

  it('separates obvious clusters and puts each blob in one cluster', async () => {
    const { rows, truth } = blobs(1);
    const result = await fitKMeans(rows, 2, 3, { seed: 7 });
    const centroids = Array.from({ length: 3 }, (_, cluster) => [result.centroids[cluster * 2]!, result.centroids[cluster * 2 + 1]!]);
    for (const expected of [
      [0, 0],
      [10, 0],
      [0, 10],
    ]) {
      assert.ok(
        centroids.some(([x, y]) => Math.hypot(x! - expected[0]!, y! - expected[1]!) < 0.3),
        `a centroid near ${expected}`,
      );
    }
    for (let blob = 0; blob < 3; blob += 1) {
      const clusters = new Set(truth.flatMap((label, index) => (label === blob ? [result.assignments[index]] : [])));
      assert.equal(clusters.size, 1);
    }
    assert.ok(result.inertia / 900 < 1, 'mean squared distance about 2 × 0.25');
  });

  it('is reproducible: the same data and seed give the same centroids', async () => {
    const { rows } = blobs(2);
    const first = await fitKMeans(rows, 2, 5, { seed: 11 });
    const second = await fitKMeans(rows, 2, 5, { seed: 11 });
    assert.deepEqual(first.centroids, second.centroids);
    assert.deepEqual(first.assignments, second.assignments);
  });

  it('prefers the true k by silhouette', async () => {
    const { rows } = blobs(3);
    const scores: number[] = [];
    for (const k of [2, 3, 4, 5]) {
      const result = await fitKMeans(rows, 2, k, { seed: 5 });
      scores.push(await silhouetteScore(rows, 2, result.assignments, k, 600, 5));
    }
    assert.equal(scores.indexOf(Math.max(...scores)), 1, `silhouettes ${scores.map((value) => value.toFixed(3))}`);
    assert.ok(scores[1]! > 0.8);
  });
});

describe('scaler', () => {
  it('standardises, weights, clips and ignores constant features', () => {
    const rows = Float32Array.from([1, 5, 0, 3, 5, 1, 5, 5, 0, 7, 5, 0]); // 4 rows × 3 features
    const scaler = fitScaler(rows, 3, [1, 1, 2], ['standardised', 'standardised', 'fixed'], 20);
    assert.deepEqual(
      scaler.mean.map((value) => Math.round(value * 100) / 100),
      [4, 5, 0.25],
    );
    assert.equal(scaler.scale[1], 0, 'a constant feature carries no information');
    assert.equal(scaler.scale[2], 2, 'fixed features keep their units times the weight');
    const scaled = applyScaler(scaler, rows);
    const firstColumn = [0, 1, 2, 3].map((row) => scaled[row * 3]!);
    const variance = firstColumn.reduce((sum, value) => sum + value * value, 0) / 4;
    assert.ok(Math.abs(variance - 1) < 1e-5);
    const wild = applyScaler(scaler, Float32Array.from([1e9, 5, 0]));
    assert.equal(wild[0], 20);
  });
});
