// `logstream generate`: logs to Kafka keyed by client IP, and a labeled training file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createKafkaClient, type ConsumedMessage, type KafkaClient } from '../../clients/kafka/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { decodeLine } from '../../logs/decode.js';
import { requireService, uniqueName, waitFor } from '../helpers/stack.js';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
let config: PipelineConfig;
let kafka: KafkaClient;
const topics: string[] = [];

before(async () => {
  config = await requireService('kafka');
  kafka = createKafkaClient({ ...config.kafka, client_id: uniqueName('generate-test') });
});

after(async () => {
  for (const topic of topics) await kafka.deleteTopic(topic).catch(() => undefined);
  await kafka.close();
});

function logstream(args: string[]) {
  return spawnSync(process.execPath, ['bin/logstream.js', ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, LOGSTREAM_KAFKA_SERVERS: config.kafka.servers },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

test('generate --count sends that many JSON-line logs to the topic, keyed by client IP', async () => {
  const topic = uniqueName('generate-test');
  topics.push(topic);
  const result = logstream(['generate', '--count', '600', '--rate', '3000', '--topic', topic, '--seed', '9', '--anomaly-rate', '0.1']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`sent 600 logs to ${topic}`));
  const offsets = await kafka.topicOffsets(topic);
  assert.equal(offsets.length, config.kafka.partitions);
  assert.equal(
    offsets.reduce((sum, partition) => sum + Number(partition.high), 0),
    600,
  );

  const received: ConsumedMessage[] = [];
  const consumer = kafka.createConsumer({ groupId: `${topic}-reader` });
  await consumer.start(topic, { onAssigned: () => undefined, onBatch: async (batch) => void received.push(...batch.messages) });
  try {
    await waitFor('600 messages', () => received.length >= 600, { timeoutMs: 60_000 });
  } finally {
    await consumer.stop();
  }
  const labels = new Set<string | null>();
  for (const message of received) {
    const decoded = decodeLine(message.value!.toString(), Date.now());
    assert.ok(decoded.ok, `generated line decodes: ${message.value}`);
    assert.equal(message.key!.toString(), decoded.event.clientIp, 'keyed by client IP');
    labels.add(decoded.event.label);
  }
  assert.ok(labels.has('normal') && !labels.has(null), `every log carries its scenario label: ${[...labels].join(', ')}`);
});

test('generate --training-data writes a labeled JSON-lines file', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'generate-test-')), 'train.jsonl');
  const result = logstream(['generate', '--training-data', '1000', '--out', file, '--seed', '4']);
  assert.equal(result.status, 0, result.stderr);
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 1000);
  for (const line of lines) {
    const decoded = decodeLine(line, Date.now());
    assert.ok(decoded.ok && decoded.event.label !== null, line);
  }
});

test('generate refuses bad options with exit code 2', () => {
  const result = logstream(['generate', '--rate', '-5']);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--rate must be a positive number/);
  const missingOut = logstream(['generate', '--training-data', '10']);
  assert.equal(missingOut.status, 2);
  assert.match(missingOut.stderr, /--training-data needs --out FILE/);
});
