// `logstream stream --model FILE` scores every row with that model, and says so in the rows; an
// unreadable model is a clear error before anything is consumed.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { requireService, waitFor } from '../helpers/stack.js';
import {
  generatedMessages,
  produce,
  streamerFixture,
  streamProcess,
  tableRowCount,
  tableRows,
  trainedModelFile,
  type StreamerFixture,
} from './streamer-support.js';

const ROWS = 2_000;

let config: PipelineConfig;
let fixture: StreamerFixture;
let modelFile: string;

before(async () => {
  config = await requireService('kafka');
  fixture = await streamerFixture(config, 'stream-model');
  modelFile = await trainedModelFile();
});

after(async () => {
  await fixture?.kafka.deleteTopic(fixture.topic).catch(() => undefined);
  await fixture?.kafka.close();
});

const stream = (model: string) => streamProcess(fixture, config, { model });

test('stream --model FILE scores every row with that model; a missing file fails before consuming', async () => {
  const missing = stream(join(tmpdir(), 'no-such-model.json'));
  assert.equal(await missing.exited, 1);
  assert.match(missing.stderr(), /model .*no-such-model\.json: no such file/);

  await produce(fixture.kafka, fixture.topic, generatedMessages(ROWS, 77));
  const run = stream(modelFile);
  await waitFor('all rows in Delta', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) >= ROWS, {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
  run.child.kill('SIGINT');
  assert.equal(await run.exited, 0, run.stderr());

  const rows = await tableRows(fixture.deltaRoot, 'logs', ['model_version', 'anomaly_score', 'cluster']);
  assert.equal(rows.length, ROWS);
  assert.deepEqual(new Set(rows.map((row) => row.model_version)), new Set([modelFile]), 'every row names the model file');
  assert.ok(
    rows.every((row) => (row.cluster as number) >= 0),
    'K-means clusters, not the placeholder (-1)',
  );
  assert.ok(rows.some((row) => (row.anomaly_score as number) > 0));
});
