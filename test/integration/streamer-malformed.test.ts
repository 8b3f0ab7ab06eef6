// A mixed stream with 5% malformed messages of every kind: every good record lands in the logs
// table exactly once, every bad one is in quarantine (and the dead-letter topic) with its reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OutgoingMessage } from '../../clients/kafka/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createDecoder } from '../../logs/decoder.js';
import { requireService, waitFor } from '../helpers/stack.js';
import {
  generatedMessages,
  produce,
  startStreamer,
  streamerFixture,
  tableKeys,
  tableRowCount,
  tableRows,
  topicMessageCount,
  type StreamerFixture,
} from './streamer-support.js';

let config: PipelineConfig;
let fixture: StreamerFixture;

before(async () => {
  config = await requireService('kafka');
  fixture = await streamerFixture(config, 'streamer-malformed');
});

after(async () => {
  await fixture?.kafka.deleteTopic(fixture.topic).catch(() => undefined);
  await fixture?.kafka.close();
});

const good = JSON.parse(generatedMessages(1, 1)[0]!.value as string) as Record<string, unknown>;
const badKinds: Array<{ code: string; value: Buffer | string | null }> = [
  { code: 'unparseable', value: 'this is not a log line' },
  { code: 'unparseable', value: '{"timestamp": "2026-' },
  { code: 'not_an_object', value: '[1, 2, 3]' },
  { code: 'missing_field', value: JSON.stringify({ ...good, status: undefined }) },
  { code: 'wrong_type', value: JSON.stringify({ ...good, status: 'OK' }) },
  { code: 'wrong_type', value: JSON.stringify({ ...good, bytes: '12kB' }) },
  { code: 'status_out_of_range', value: JSON.stringify({ ...good, status: 777 }) },
  { code: 'negative_bytes', value: JSON.stringify({ ...good, bytes: -10 }) },
  { code: 'timestamp_out_of_range', value: JSON.stringify({ ...good, timestamp: '2099-01-01T00:00:00Z' }) },
  { code: 'timestamp_out_of_range', value: JSON.stringify({ ...good, timestamp: '1990-01-01T00:00:00Z' }) },
  // Outside the event-time window (7 days back, 1 hour ahead of ingest), though plausible dates.
  { code: 'timestamp_out_of_range', value: JSON.stringify({ ...good, timestamp: new Date(Date.now() - 30 * 86_400_000).toISOString() }) },
  { code: 'timestamp_out_of_range', value: JSON.stringify({ ...good, timestamp: new Date(Date.now() + 3 * 3_600_000).toISOString() }) },
  { code: 'bad_timestamp', value: JSON.stringify({ ...good, timestamp: 'last tuesday' }) },
  { code: 'bad_ip', value: JSON.stringify({ ...good, client_ip: 'not-an-ip' }) },
  { code: 'bad_response_time', value: JSON.stringify({ ...good, response_time_ms: -5 }) },
  { code: 'oversize', value: JSON.stringify({ ...good, user_agent: 'x'.repeat(70 * 1024) }) },
  { code: 'invalid_utf8', value: Buffer.concat([Buffer.from('{"timestamp":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]) },
  { code: 'empty', value: null },
  { code: 'bad_request_line', value: '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "\\x16\\x03\\x01" 400 0 "-" "-"' },
];

test('5% malformed messages of every kind go to quarantine and the DLQ with their reason; all good ones land once', async () => {
  const total = 6000;
  const partitions = 3;
  const goodMessages = generatedMessages(total, 11);
  // Explicit partitions, sent in order, so the test knows each message's (partition, offset).
  const expectedBad = new Map<string, { code: string; value: Buffer | string | null }>();
  const expectedGood = new Set<string>();
  const nextOffset = [0, 0, 0];
  const messages: OutgoingMessage[] = goodMessages.map((message, index) => {
    const partition = index % partitions;
    const key = `${partition}:${nextOffset[partition]!++}`;
    if (index % 20 === 7) {
      const bad = badKinds[Math.floor(index / 20) % badKinds.length]!;
      expectedBad.set(key, bad);
      return { key: 'bad', value: bad.value, partition };
    }
    expectedGood.add(key);
    return { ...message, partition };
  });
  assert.equal(expectedBad.size, total / 20);
  await produce(fixture.kafka, fixture.topic, messages, 1000);

  const { streamer, done } = await startStreamer(fixture, config);
  try {
    await waitFor(
      'all rows in the logs and quarantine tables',
      async () =>
        (await tableRowCount(fixture.deltaRoot, 'logs')) === expectedGood.size &&
        (await tableRowCount(fixture.deltaRoot, 'quarantine')) === expectedBad.size,
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  } finally {
    await streamer.stop();
    await done;
  }

  const logKeys = await tableKeys(fixture.deltaRoot, 'logs');
  assert.equal(logKeys.length, expectedGood.size, 'no duplicates in logs');
  assert.deepEqual(new Set(logKeys), expectedGood);

  const quarantine = await tableRows(fixture.deltaRoot, 'quarantine');
  assert.equal(quarantine.length, expectedBad.size);
  const reasonCounts = new Map<string, number>();
  for (const row of quarantine) {
    const key = `${row.kafka_partition}:${row.kafka_offset}`;
    const expected = expectedBad.get(key);
    assert.ok(expected, `unexpected quarantined message ${key}`);
    assert.equal(row.reason_code, expected.code, `reason of ${key}: ${row.reason}`);
    assert.equal(row.kafka_topic, fixture.topic);
    assert.ok(typeof row.reason === 'string' && row.reason.length > 0);
    if (expected.code === 'invalid_utf8') {
      assert.equal(row.payload_encoding, 'base64');
      assert.deepEqual(Buffer.from(row.payload as string, 'base64'), expected.value);
    } else if (expected.value !== null) {
      assert.equal(row.payload, expected.value.toString());
    }
    if (expected.code === 'missing_field')
      assert.match(row.reason, /^missing status for mapping logstream; mappings in effect: logstream, ecs, combined$/);
    reasonCounts.set(expected.code, (reasonCounts.get(expected.code) ?? 0) + 1);
  }
  assert.equal(reasonCounts.size, new Set(badKinds.map((kind) => kind.code)).size, 'every kind of bad input was seen');
  assert.ok(
    (await topicMessageCount(fixture.kafka, fixture.dlqTopic)) >= expectedBad.size,
    'every bad message is on the dead-letter topic',
  );
});

test('after a crash between the quarantine and logs commits, a replayed batch skips what quarantine holds and keeps the other partitions', async () => {
  const replayed = await streamerFixture(config, 'streamer-quarantine-ahead', 2);
  try {
    // As if a previous run committed quarantine for partition 0 up to offset 999, then died before the logs commit.
    const { openLakehouse } = await import('../../streamers/lakehouse.js');
    const opened = await openLakehouse(replayed.deltaRoot, {}, { writerThread: false });
    const [[written]] = await opened.lakehouse.commitSteps([
      [{ table: 'quarantine', rows: [], txns: [{ appId: `quarantine:${replayed.topic}-0`, version: 999n }] }],
    ]);
    assert.equal(written?.kind, 'committed');
    await opened.close();

    const messages: OutgoingMessage[] = [];
    for (let index = 0; index < 200; index += 1) {
      for (const partition of [0, 1])
        messages.push(
          index % 10 === 0 ? { value: 'not a log line', partition } : { ...generatedMessages(1, index * 2 + partition)[0]!, partition },
        );
    }
    await produce(replayed.kafka, replayed.topic, messages);
    // A compiled decoder given to createStreamer decodes on the calling thread, not the decode
    // thread: this test runs that path, good and bad messages alike.
    const decode = {
      maxMessageBytes: config.streaming.max_message_bytes,
      decoder: createDecoder(config.decode, { topic: replayed.topic, window: true }),
    };
    const { streamer, done } = await startStreamer(replayed, config, { decode });
    try {
      await waitFor('360 good rows in the logs table', async () => (await tableRowCount(replayed.deltaRoot, 'logs')) === 360, {
        timeoutMs: 60_000,
        intervalMs: 300,
      });
    } finally {
      await streamer.stop();
      await done;
    }
    const quarantined = await tableKeys(replayed.deltaRoot, 'quarantine');
    assert.deepEqual(
      quarantined.map((key) => key.split(':')[0]).sort(),
      Array(20).fill('1'),
      'partition 1 quarantined, partition 0 already held',
    );
  } finally {
    await replayed.kafka.deleteTopic(replayed.topic).catch(() => undefined);
    await replayed.kafka.close();
  }
});

test('an oversized message goes to the DLQ as a bounded record, stays whole in quarantine, and its partition goes on', async () => {
  const oversized = await streamerFixture(config, 'streamer-oversized', 1);
  try {
    const huge = JSON.stringify({ ...good, user_agent: 'y'.repeat(600 * 1024) });
    const messages: OutgoingMessage[] = [
      ...generatedMessages(50, 3).map((message) => ({ ...message, partition: 0 })),
      { value: huge, partition: 0 },
      ...generatedMessages(50, 4).map((message) => ({ ...message, partition: 0 })),
    ];
    await produce(oversized.kafka, oversized.topic, messages, 1);
    const { streamer, done } = await startStreamer(oversized, config);
    try {
      await waitFor('100 good rows after the oversized one', async () => (await tableRowCount(oversized.deltaRoot, 'logs')) === 100, {
        timeoutMs: 60_000,
        intervalMs: 300,
      });
    } finally {
      await streamer.stop();
      await done;
    }
    const [quarantined] = await tableRows(oversized.deltaRoot, 'quarantine');
    assert.equal(quarantined?.reason_code, 'oversize');
    assert.equal(quarantined?.payload, huge, 'the whole payload is in quarantine');
    const deadLetters: Array<{ bytes: number; headers: Record<string, string> }> = [];
    const reader = oversized.kafka.createConsumer({ groupId: `${oversized.dlqTopic}-reader`, maxWaitMs: 50 });
    await reader.start(oversized.dlqTopic, {
      onAssigned: () => undefined,
      onBatch: async (batch) => {
        for (const message of batch.messages) {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
          deadLetters.push({ bytes: message.value?.length ?? 0, headers });
        }
      },
    });
    try {
      await waitFor('the dead letter', () => deadLetters.length >= 1, { timeoutMs: 30_000 });
    } finally {
      await reader.stop();
    }
    assert.ok(deadLetters[0]!.bytes <= 64 * 1024, `dead letter of ${deadLetters[0]!.bytes} bytes`);
    assert.equal(deadLetters[0]!.headers['logstream.truncated'], 'true');
    assert.equal(deadLetters[0]!.headers['logstream.original_bytes'], String(Buffer.byteLength(huge)));
    assert.equal(deadLetters[0]!.headers['logstream.reason_code'], 'oversize');
  } finally {
    await oversized.kafka.deleteTopic(oversized.topic).catch(() => undefined);
    await oversized.kafka.close();
  }
});

test('a topic mapped to nginx_json reads Nginx JSON logs; a generator line there is quarantined naming the mapping', async () => {
  const nginx = await streamerFixture(config, 'streamer-nginx-json', 1);
  try {
    const nowIso = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
    const lines = Array.from({ length: 50 }, (_, index) =>
      JSON.stringify({
        time_iso8601: nowIso,
        remote_addr: `203.0.113.${index + 1}`,
        request_method: 'GET',
        request_uri: `/products/${index}?ref=mail`,
        status: index % 10 === 0 ? '503' : '200',
        body_bytes_sent: '1532',
        request_time: '0.087',
        http_referer: '',
        http_user_agent: 'Mozilla/5.0',
      }),
    );
    const messages: OutgoingMessage[] = [...lines, generatedMessages(1, 5)[0]!.value as string].map((value) => ({ value }));
    await produce(nginx.kafka, nginx.topic, messages);
    // As a user maps a topic: decode.topics in the configuration.
    const decode = { ...config.decode, topics: { [nginx.topic]: ['nginx_json'] } };
    const { streamer, done } = await startStreamer(nginx, { ...config, decode });
    try {
      await waitFor(
        '50 rows in logs and 1 in quarantine',
        async () => (await tableRowCount(nginx.deltaRoot, 'logs')) === 50 && (await tableRowCount(nginx.deltaRoot, 'quarantine')) === 1,
        { timeoutMs: 60_000, intervalMs: 300 },
      );
    } finally {
      await streamer.stop();
      await done;
    }
    const rows = await tableRows(nginx.deltaRoot, 'logs');
    const first = rows.find((row) => row.client_ip === '203.0.113.1');
    assert.ok(first);
    assert.equal(first.path, '/products/0');
    assert.equal(first.status, 503);
    assert.equal(first.response_time_ms, 87);
    assert.equal(rows.filter((row) => row.status === 503).length, 5);
    const [quarantined] = await tableRows(nginx.deltaRoot, 'quarantine');
    assert.equal(quarantined!.reason_code, 'missing_field');
    assert.match(String(quarantined!.reason), /for mapping nginx_json$/);
  } finally {
    await nginx.kafka.deleteTopic(nginx.topic).catch(() => undefined);
    await nginx.kafka.close();
  }
});
