// `logstream stream --model FILE` scores every row with that model, and says so in the rows; an
// unreadable model is a clear error before anything is consumed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { generateTrainingData } from '../../generator/index.js';
import { serializeModel } from '../../ml/model.js';
import { trainModel } from '../../ml/train.js';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { requireService, waitFor } from '../helpers/stack.js';
import { generatedMessages, produce, streamerFixture, tableRowCount, tableRows, type StreamerFixture } from './streamer-support.js';

const ROWS = 2_000;
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

let config: PipelineConfig;
let fixture: StreamerFixture;
let modelFile: string;

before(async () => {
  config = await requireService('kafka');
  fixture = await streamerFixture(config, 'stream-model');
  const { model } = await trainModel(generateTrainingData(3_000, 5), {
    kMin: 2,
    kMax: 3,
    seed: 5,
    thresholdPercentile: 99,
    source: 'test',
    origin: 'generated',
  });
  modelFile = join(await mkdtemp(join(tmpdir(), 'stream-model-')), 'model.json');
  await writeFile(modelFile, serializeModel(model));
});

after(async () => {
  await fixture?.kafka.deleteTopic(fixture.topic).catch(() => undefined);
  await fixture?.kafka.close();
});

function stream(model: string) {
  const child = spawn(
    process.execPath,
    logstreamArgs('stream', '--topic', fixture.topic, '--group', fixture.groupId, '--no-search', '--model', model),
    {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        LOGSTREAM_KAFKA_SERVERS: config.kafka.servers,
        LOGSTREAM_DELTA_ROOT: fixture.deltaRoot,
        LOGSTREAM_KAFKA_DLQ_TOPIC: fixture.dlqTopic,
        LOGSTREAM_KAFKA_ANOMALIES_TOPIC: fixture.anomaliesTopic,
        LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '300',
        LOGSTREAM_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  return { child, exited: once(child, 'exit').then(([code]) => code as number | null), stderr: () => stderr };
}

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
