// The promotion gate on a site's own traffic, against the stack's MLflow and a Delta lakehouse
// filled with the real Apache log: a model trained from Delta is judged on the most recent rows
// (held out, attacks injected) and promoted; a deliberately worse candidate is rejected with the
// reason in MLflow; OPTIMIZE does not change what training sees.
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { DeltaTable } from '../../clients/delta/index.js';
import { MlflowClient } from '../../clients/mlflow/client.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createRandom } from '../../common/random.js';
import { extractFeatures, fitVocabulary } from '../../ml/features.js';
import { ATTACK_KINDS } from '../../ml/inject.js';
import { siteTrafficFromDelta, type SiteTrafficOptions } from '../../training/deltaSample.js';
import { CHAMPION_ALIAS, GATE_ARTIFACT_PATH, REPORT_ARTIFACT_PATH } from '../../training/registry.js';
import { runTraining } from '../../training/trainingRun.js';
import { scoredApacheRecords, writeLakehouse } from '../helpers/apacheLakehouse.js';
import { requireService, stackConfig, uniqueName } from '../helpers/stack.js';

let config: PipelineConfig;
let client: MlflowClient;
let root: string;
/** A minute after the log's last event: the lookback window ends there. */
let nowMs: number;

before(async () => {
  const base = await requireService('mlflow', stackConfig());
  root = await mkdtemp(join(tmpdir(), 'own-traffic-gate-'));
  const records = await scoredApacheRecords();
  // Commits of 250 rows, in the log's own order (not sorted by time within a second or a file).
  await writeLakehouse(root, records, 250);
  nowMs = Math.max(...records.map((record) => record.timestampMs)) + 60_000;
  const name = uniqueName('gate');
  config = {
    ...base,
    delta: { ...base.delta, root },
    mlflow: { ...base.mlflow, experiment: `test-${name}`, registered_model: `test-${name}` },
    // The log's lines all fall in minute :05 of their hour: a sample this large puts a one-minute
    // slice on every minute, so the slices find them. The test's own budget: the mechanism is
    // under test here, bench ml-real measures the figures.
    ml: {
      ...base.ml,
      k_min: 2,
      k_max: 5,
      lookback_hours: 96,
      training_samples: 20_000,
      gate_holdout_fraction: 0.25,
      gate_false_positive_budget: 0.04,
    },
  };
  client = new MlflowClient({ trackingUri: config.mlflow.tracking_uri });
});

const siteOptions = (): SiteTrafficOptions => ({
  root,
  lookbackHours: config.ml.lookback_hours,
  samples: config.ml.training_samples,
  seed: config.ml.seed,
  heldOutFraction: config.ml.gate_holdout_fraction,
  heldOutRows: config.ml.gate_holdout_rows,
  nowMs,
});

describe(`the own-traffic promotion gate (MLflow at ${process.env.LOGSTREAM_MLFLOW_TRACKING_URI ?? 'the stack'})`, () => {
  it('promotes a model trained from Delta on its judgement of the most recent, held-out rows with attacks injected', async () => {
    const good = await runTraining({ config, nowMs });
    assert.equal(good.model.training.origin, 'site');
    assert.ok(good.gate, 'judged on the site traffic');
    assert.ok(good.gate.heldOutRows >= 2_000, `${good.gate.heldOutRows} held-out rows`);
    assert.deepEqual(
      good.gate.report.perScenario.map((entry) => entry.kind),
      [...ATTACK_KINDS],
    );
    assert.ok(good.gate.report.f1 > 0.85, `gate F1 ${good.gate.report.f1}`);
    assert.ok(good.published);
    assert.equal(good.published.promotion.promoted, true, good.published.promotion.reason);
    assert.equal(good.published.promotion.basis, 'site traffic');
    assert.equal((await client.getVersionByAlias(config.mlflow.registered_model, CHAMPION_ALIAS))?.version, good.published.version.version);
    const gate = JSON.parse(await client.downloadArtifact(`${good.published.run.artifactUri}/${GATE_ARTIFACT_PATH}`)) as {
      promoted: boolean;
      candidate: { perScenario: unknown[] };
    };
    assert.equal(gate.promoted, true);
    assert.equal(gate.candidate.perScenario.length, ATTACK_KINDS.length);
    assert.match(
      await client.downloadArtifact(`${good.published.run.artifactUri}/${REPORT_ARTIFACT_PATH}`),
      /Recall per attack kind[\s\S]*<svg /,
    );

    // The same rows with their order shuffled: every client's requests scattered over four days,
    // so the model learns that no client is ever busy or failing. Judged on the same held-out rows.
    const traffic = await siteTrafficFromDelta(siteOptions());
    const random = createRandom(7);
    const times = traffic.sample.events.map((event) => event.timestampMs);
    for (let index = times.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random.next() * (index + 1));
      [times[index], times[other]] = [times[other]!, times[index]!];
    }
    const shuffled = traffic.sample.events.map((event, index) => ({ ...event, timestampMs: times[index]! }));
    const worse = await runTraining({ config, events: shuffled, heldOut: traffic.heldOut, origin: 'site', source: 'test:shuffled' });
    assert.ok(worse.published && worse.gate);
    assert.ok(worse.gate.report.f1 < good.gate.report.f1 || worse.gate.report.falsePositiveRate > config.ml.gate_false_positive_budget);
    assert.equal(worse.published.promotion.promoted, false);
    assert.equal((await client.getVersionByAlias(config.mlflow.registered_model, CHAMPION_ALIAS))?.version, good.published.version.version);
    const version = await client.getModelVersion(config.mlflow.registered_model, worse.published.version.version);
    assert.match(version.tags.promotion ?? '', /^kept champion: (?:F1 .* < champion version|false positives .* exceed the budget)/);
    const rejected = JSON.parse(await client.downloadArtifact(`${worse.published.run.artifactUri}/${GATE_ARTIFACT_PATH}`)) as {
      promoted: boolean;
      reason: string;
      champion?: { f1: number };
    };
    assert.equal(rejected.promoted, false);
    assert.equal(rejected.reason, worse.published.promotion.reason);
    assert.ok(rejected.champion, "the champion's report on the same rows is kept next to the candidate's");
  });
});

describe('training order survives OPTIMIZE', () => {
  it('gives the same training rows, client statistics and features after the logs table is compacted', async () => {
    const before = await siteTrafficFromDelta(siteOptions());
    const table = await DeltaTable.open(join(root, 'logs'));
    const filesBefore = (await table.snapshot()).files().length;
    const result = await table.optimize();
    assert.ok(
      result.filesRemoved > 10 && result.filesAdded < result.filesRemoved,
      `${result.filesRemoved} files compacted into ${result.filesAdded}`,
    );
    const after = await siteTrafficFromDelta(siteOptions());
    assert.ok((await (await DeltaTable.open(join(root, 'logs'))).snapshot()).files().length < filesBefore);

    assert.equal(after.sample.events.length, before.sample.events.length);
    assert.deepEqual(after.sample.events, before.sample.events);
    assert.deepEqual(after.sample.clientStats, before.sample.clientStats);
    assert.deepEqual(after.heldOut, before.heldOut);
    const vocabulary = fitVocabulary(before.sample.events);
    assert.deepEqual(
      extractFeatures(after.sample.events, after.sample.clientStats, vocabulary),
      extractFeatures(before.sample.events, before.sample.clientStats, vocabulary),
    );
  });
});
