import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createTrafficGenerator, generateTrainingData } from '../../generator/index.js';
import { ClientWindow } from '../../ml/clientWindow.js';
import { ModelArtifactError } from '../../ml/errors.js';
import { evaluateDetections } from '../../ml/evaluate.js';
import { createScorer } from '../../ml/kmeansScorer.js';
import { MODEL_SCHEMA_VERSION, parseModelArtifact, serializeModel, type ModelArtifact } from '../../ml/model.js';
import { renderEvaluationReport } from '../../ml/report.js';
import { scoreResults } from '../../ml/scorer.js';
import { rowsWithCap, trainModel } from '../../ml/train.js';
import type { LogEvent } from '../../logs/record.js';

let model: ModelArtifact;
const options = { kMin: 2, kMax: 4, seed: 42, thresholdPercentile: 99, source: 'unit-test', origin: 'generated' as const };

before(async () => {
  model = (await trainModel(generateTrainingData(6_000, 42), options)).model;
});

describe('model training and score calibration', () => {
  it('records what scoring needs: spec, scaler, centroids, radii, threshold, k candidates', () => {
    assert.equal(model.schemaVersion, MODEL_SCHEMA_VERSION);
    assert.equal(model.featureSpec.id, 'web-access-v2');
    assert.equal(model.centroids.length, model.training.k);
    assert.deepEqual(
      model.training.candidates.map((candidate) => candidate.k),
      [2, 3, 4],
    );
    assert.ok(model.clusters.every((cluster) => cluster.radius > 0));
    assert.ok(model.training.flaggedFraction < 0.03, `flags ${model.training.flaggedFraction} of its own training rows`);
  });

  it('is reproducible from the same data and seed', async () => {
    const again = (await trainModel(generateTrainingData(6_000, 42), options)).model;
    assert.deepEqual(again.centroids, model.centroids);
    assert.equal(again.threshold, model.threshold);
  });

  it('scores held-out anomalies above the threshold and almost all normal traffic below it', async () => {
    const generator = createTrafficGenerator({ seed: 99, startTimeMs: Date.UTC(2026, 1, 3, 9), ratePerSecond: 50, anomalyRate: 0.03 });
    const events = Array.from({ length: 30_000 }, () => generator.next());
    const scorer = createScorer(model, 'test');
    const window = new ClientWindow();
    const results = [
      ...scoreResults(await scorer.score(events.slice(0, 15_000), window)),
      ...scoreResults(await scorer.score(events.slice(15_000), window)),
    ];
    scorer.dispose();
    const metrics = evaluateDetections(
      events.map((event) => event.label),
      results.map((result) => result.isAnomaly),
    );
    assert.ok(metrics.falsePositiveRate < 0.01, `false-positive rate ${metrics.falsePositiveRate}`);
    assert.ok(metrics.overall.recall > 0.8, `recall ${metrics.overall.recall}`);
    const anomaly = results.find((result) => result.isAnomaly)!;
    assert.ok(anomaly.reasons && anomaly.reasons.length > 0 && anomaly.reasons.length <= 3);
    assert.equal(anomaly.modelVersion, 'test');
  });
});

describe('anomalies inside the training data', () => {
  it('fit at most a capped number of rows per client and minute, spread over its requests', () => {
    const clients = [...Array.from({ length: 100 }, (_, index) => (index % 10 === 0 ? 'b' : 'a')), 'c'];
    const kept = rowsWithCap(clients, 10);
    assert.equal(kept.filter((index) => clients[index] === 'a').length, 10);
    assert.equal(kept.filter((index) => clients[index] === 'b').length, 10, 'exactly at the cap: all kept');
    assert.ok(kept.includes(100), 'a light client keeps its row');
    assert.deepEqual(
      kept,
      [...kept].sort((x, y) => x - y),
      'in order',
    );
    const fromA = kept.filter((index) => clients[index] === 'a');
    assert.ok(fromA[0]! < 15 && fromA.at(-1)! > 85, `spread over the client's requests: ${fromA.join(',')}`);
  });

  it("are not learned as normal behaviour: a scanner's episode in the training rows still scores as anomalous", async () => {
    // Seed 6: these 8,000 rows hold one scan of 219 requests.
    const generator = createTrafficGenerator({
      seed: 6,
      startTimeMs: Date.UTC(2026, 0, 12, 10),
      ratePerSecond: 50,
      anomalyRate: 0.02,
      scenarios: ['path_scan'],
    });
    const training = Array.from({ length: 8_000 }, () => generator.next());
    const scan = training.filter((event) => event.label === 'path_scan');
    assert.ok(
      scan.length > 100 && new Set(scan.map((event) => event.clientIp)).size === 1,
      `the training rows hold one client's path scan (${scan.length} rows)`,
    );
    // Unlabeled, as a real site's rows are: only the per-client cap keeps the scan from being learned.
    const model = (
      await trainModel(
        training.map((event) => ({ ...event, label: null })),
        options,
      )
    ).model;
    const scorer = createScorer(model, 'test');
    const batch = await scorer.score(training, new ClientWindow());
    scorer.dispose();
    // The batch's columns agree with each other: anomalous exactly above the threshold, each with its reasons.
    assert.equal(batch.scores.length, training.length);
    assert.equal(
      batch.reasons.size,
      batch.anomalous.reduce((sum, flag) => sum + flag, 0),
    );
    batch.scores.forEach((score, row) => {
      assert.equal(batch.anomalous[row], score > model.threshold ? 1 : 0, `row ${row}`);
      if (batch.anomalous[row]) assert.ok(batch.reasons.get(row)!.length > 0, `reasons of row ${row}`);
    });
    const results = scoreResults(batch);
    const flagged = results.filter((result, index) => result.isAnomaly && training[index]!.label === 'path_scan').length;
    assert.ok(flagged / scan.length > 0.9, `${flagged} of ${scan.length} scan rows flagged`);
  });

  it("labeled as an attack (a generated training file), stay out of the baselines: exports of 250 MB do not become the endpoint's normal", async () => {
    const generator = createTrafficGenerator({
      seed: 3,
      startTimeMs: Date.UTC(2026, 0, 12, 10),
      ratePerSecond: 50,
      anomalyRate: 0.05,
      scenarios: ['oversized_response'],
    });
    const training = Array.from({ length: 8_000 }, () => generator.next());
    const oversized = training.filter((event) => event.label === 'oversized_response');
    assert.ok(oversized.length > 50, `the training rows hold oversized responses (${oversized.length})`);
    const endpoint = `${oversized[0]!.method} ${oversized[0]!.pathTemplate}`;
    const labeled = (await trainModel(training, options)).model;
    const unlabeled = (
      await trainModel(
        training.map((event) => ({ ...event, label: null })),
        options,
      )
    ).model;
    assert.ok(endpoint in unlabeled.vocabulary.endpointLogFrequency, `unlabeled, ${endpoint} is part of the site`);
    assert.ok(!(endpoint in labeled.vocabulary.endpointLogFrequency), `labeled, ${endpoint} is not`);
  });
});

describe('a model trained on a single day', () => {
  it('does not flag ordinary traffic on other days of the week (retraining from the lakehouse sees one lookback window)', async () => {
    // A day of Monday traffic, sparse like a sample of the logs table over a 24-hour lookback.
    const monday = createTrafficGenerator({ seed: 7, startTimeMs: Date.UTC(2026, 0, 12), ratePerSecond: 0.08, anomalyRate: 0.02 });
    const day: LogEvent[] = [];
    while (day.length === 0 || day.at(-1)!.timestampMs < Date.UTC(2026, 0, 13)) day.push(monday.next());
    const oneDay = (await trainModel(day, options)).model;
    // Thursday at the same rate: the clients are as busy as in the sample, only the day differs.
    const thursday = createTrafficGenerator({ seed: 8, startTimeMs: Date.UTC(2026, 0, 15, 2), ratePerSecond: 0.08, anomalyRate: 0 });
    const events = Array.from({ length: 5_000 }, () => thursday.next());
    const scorer = createScorer(oneDay, 'one-day');
    const results = scoreResults(await scorer.score(events, new ClientWindow()));
    scorer.dispose();
    const flagged = results.filter((result) => result.isAnomaly).length / events.length;
    assert.ok(flagged < 0.01, `flags ${(100 * flagged).toFixed(1)}% of Thursday's normal traffic`);
  });
});

describe('model artifact validation', () => {
  const reparse = (artifact: unknown) => parseModelArtifact(JSON.parse(JSON.stringify(artifact)), 'test.json');

  it('round-trips through JSON', () => {
    assert.deepEqual(parseModelArtifact(JSON.parse(serializeModel(model)), 'model.json'), model);
  });

  it('refuses an older schema version, another feature spec and corrupt contents with a typed error', () => {
    assert.throws(
      () => reparse({ ...model, schemaVersion: 0 }),
      (error: unknown) => error instanceof ModelArtifactError && /schema version 0/.test(error.message) && /test\.json/.test(error.message),
    );
    assert.throws(
      () => reparse({ ...model, featureSpec: { ...model.featureSpec, id: 'web-access-v0' } }),
      (error: unknown) => error instanceof ModelArtifactError && /feature spec "web-access-v0"/.test(error.message),
    );
    assert.throws(() => reparse({ ...model, centroids: model.centroids.map((row) => row.slice(1)) }), ModelArtifactError);
    assert.throws(() => reparse({ ...model, threshold: -1 }), ModelArtifactError);
    assert.throws(() => reparse({ kind: 'something-else' }), ModelArtifactError);
  });
});

describe('evaluation', () => {
  it('computes precision, recall, F1 and the false-positive rate', () => {
    const labels = ['normal', 'normal', 'normal', 'normal', null, 'path_scan', 'path_scan', 'error_burst'];
    const flagged = [false, false, true, false, false, true, false, true];
    const metrics = evaluateDetections(labels, flagged);
    assert.equal(metrics.overall.truePositives, 2);
    assert.equal(metrics.overall.falsePositives, 1);
    assert.equal(metrics.overall.falseNegatives, 1);
    assert.ok(Math.abs(metrics.overall.f1 - 2 / 3) < 1e-9);
    assert.ok(Math.abs(metrics.falsePositiveRate - 1 / 5) < 1e-9);
    assert.equal(metrics.anomalyRate, 3 / 8);
    assert.deepEqual(
      metrics.perLabel.map((entry) => entry.label),
      ['normal', 'error_burst', 'path_scan'],
    );
    assert.equal(metrics.perLabel.find((entry) => entry.label === 'path_scan')!.recall, 0.5);
  });

  it('renders a self-contained HTML report with the k chart and holdout scores', () => {
    const html = renderEvaluationReport({
      model,
      holdout: { metrics: evaluateDetections(['normal', 'path_scan'], [false, true]), scores: [0.5, 4], labels: ['normal', 'path_scan'] },
    });
    assert.match(html, /^<!doctype html>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 2);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3)/);
  });
});
