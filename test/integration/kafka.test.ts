// The stack's Kafka broker: a keyed produce/consume round trip through a new 3-partition topic.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { PipelineConfig } from '../../config/schema.js';
import { isExternalService, requireService, uniqueName, waitFor } from '../helpers/stack.js';

let config: PipelineConfig;
let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];

before(async () => {
  config = await requireService('kafka');
  kafka = new Kafka({ clientId: uniqueName('stack-test'), brokers: config.kafka.servers.split(','), logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  if (topics.length) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
});

test('keyed messages through a new 3-partition topic arrive on all partitions, each key on one partition', async () => {
  const topic = uniqueName('stack-test-topic');
  topics.push(topic);
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }), true);
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  assert.equal(metadata.topics[0]!.partitions.length, 3);

  const keys = Array.from({ length: 30 }, (_, index) => `client-${index}`);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: keys.map((key, index) => ({ key, value: JSON.stringify({ index }) })) });
  await producer.disconnect();

  const received: { key: string; partition: number; index: number }[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('stack-test-group') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          key: message.key!.toString(),
          partition,
          index: (JSON.parse(message.value!.toString()) as { index: number }).index,
        });
      },
    });
    await waitFor(`all ${keys.length} messages back from ${topic}`, () => received.length >= keys.length, { timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }

  assert.deepEqual(
    received.map((message) => message.index).sort((a, b) => a - b),
    keys.map((_, index) => index),
  );
  assert.deepEqual([...new Set(received.map((message) => message.partition))].sort(), [0, 1, 2]);
  const partitionOfKey = new Map<string, Set<number>>();
  for (const message of received)
    (partitionOfKey.get(message.key) ?? partitionOfKey.set(message.key, new Set()).get(message.key)!).add(message.partition);
  assert.ok(
    [...partitionOfKey.values()].every((partitions) => partitions.size === 1),
    'a key always lands on the same partition',
  );
});

test('a topic that was never created is refused (auto-create is off in the stack broker)', async (t) => {
  if (isExternalService('kafka')) return t.skip('external broker: its auto-create setting is its own');
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1 } });
  await producer.connect();
  try {
    await assert.rejects(producer.send({ topic: uniqueName('stack-test-missing'), messages: [{ value: 'x' }], timeout: 3000 }));
  } finally {
    await producer.disconnect();
  }
});
