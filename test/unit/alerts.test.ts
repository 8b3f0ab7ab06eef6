// The alert outbox: at least once with back-off, never blocking; alerts reconciled with committed rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { readRanges, type ConsumedMessage, type MessageProducer, type OutgoingMessage } from '../../clients/kafka/index.js';
import { alertKeyOffset, EarlierAlerts } from '../../streamers/alertHistory.js';
import { AlertOutbox, deadLetterMessage } from '../../streamers/alerts.js';
import type { ScoredRecord } from '../../streamers/sinks.js';
import { waitFor } from '../helpers/stack.js';

function row(offset: bigint, isAnomaly: boolean): ScoredRecord {
  return {
    timestampMs: 0,
    clientIp: '10.0.0.1',
    method: 'GET',
    path: '/',
    query: null,
    pathTemplate: '/',
    status: 500,
    responseTimeMs: 1,
    responseBytes: 1,
    referrer: null,
    userAgent: null,
    label: null,
    topic: 'web-logs',
    partition: 0,
    offset,
    kafkaTimestampMs: 0,
    ingestTimeMs: 0,
    anomalyScore: isAnomaly ? 5 : 0.1,
    isAnomaly,
    cluster: 0,
    modelVersion: '1',
    reasons: isAnomaly ? ['status'] : [],
  };
}

/** A producer that fails while `down` and records what it sent. */
function producer() {
  const sent: Array<{ id: string; retracted: boolean }> = [];
  const state = { down: false };
  const client: MessageProducer = {
    async send(_topic: string, messages: OutgoingMessage[]) {
      if (state.down) throw new Error('broker unreachable');
      for (const message of messages) {
        const value = JSON.parse(String(message.value)) as { id: string; retracted?: boolean };
        sent.push({ id: value.id, retracted: value.retracted === true });
      }
    },
    async close() {},
  };
  return { client, sent, state };
}

/** An outbox on topic "alerts" for the logs of "web-logs", retrying at once. */
function outboxFor(client: MessageProducer, maxBackoffMs?: number): AlertOutbox {
  return new AlertOutbox({
    topic: 'alerts',
    sourceTopic: 'web-logs',
    producer: () => client,
    logger: pino({ level: 'silent' }),
    initialBackoffMs: 1,
    maxBackoffMs,
  });
}

describe('AlertOutbox', () => {
  it('keeps retrying while the broker is down and sends every alert once it is back', async () => {
    const { client, sent, state } = producer();
    const outbox = outboxFor(client, 5);
    outbox.assign(0, -1n);
    state.down = true;
    outbox.detected([row(3n, true), row(8n, true)]);
    outbox.committed(0, 9n, [row(3n, true), row(8n, true)]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(sent.length, 0);
    assert.equal(outbox.watermark(0), 2n, 'the watermark waits for the first unacknowledged alert');
    state.down = false;
    await waitFor('alerts sent', () => sent.length === 2, { timeoutMs: 2000, intervalMs: 5 });
    assert.deepEqual(
      sent.map((alert) => alert.id),
      ['web-logs-0-3', 'web-logs-0-8'],
    );
    assert.equal(outbox.watermark(0), 9n);
    await outbox.close(100);
  });

  it('retracts an alert the committed row does not confirm, and sends a committed anomaly never alerted', async () => {
    const { client, sent } = producer();
    const outbox = outboxFor(client);
    outbox.assign(0, 0n);
    outbox.detected([row(4n, true)]);
    // Another streamer's rows were committed for 1..6: offset 4 is normal there, offset 6 anomalous.
    outbox.committed(0, 6n, [row(4n, false), row(5n, false), row(6n, true)]);
    await waitFor('three messages', () => sent.length === 3, { timeoutMs: 2000, intervalMs: 5 });
    assert.deepEqual(sent, [
      { id: 'web-logs-0-4', retracted: false },
      { id: 'web-logs-0-4', retracted: true },
      { id: 'web-logs-0-6', retracted: false },
    ]);
    await outbox.close(100);
  });

  it("waits for other owners' alerts before reconciling, then retracts those the committed rows do not confirm", async () => {
    const { client, sent } = producer();
    const outbox = outboxFor(client);
    outbox.assign(0, 2n);
    let readBack!: (offsets: bigint[]) => void;
    outbox.takeOver(0, new Promise((resolve) => (readBack = resolve)));
    // A killed streamer had alerted offsets 3, 5 and 9; this one scores 5 anomalous, 3 and 9 normal.
    outbox.detected([row(5n, true)]);
    outbox.committed(0, 6n, [row(3n, false), row(4n, false), row(5n, true), row(6n, false)]);
    outbox.committed(0, 10n, [row(9n, false), row(10n, false)]);
    await waitFor('the fresh alert', () => sent.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(sent.length, 1, 'nothing reconciled while the read-back runs');
    assert.equal(outbox.watermark(0), 2n, 'and the watermark does not move');
    readBack([3n, 5n, 9n]);
    await waitFor('two retractions', () => sent.length === 3, { timeoutMs: 2000, intervalMs: 5 });
    assert.deepEqual(sent, [
      { id: 'web-logs-0-5', retracted: false },
      { id: 'web-logs-0-3', retracted: true },
      { id: 'web-logs-0-9', retracted: true },
    ]);
    await waitFor('the watermark', () => outbox.watermark(0) === 10n, { timeoutMs: 2000, intervalMs: 5 });
    await outbox.close(100);
  });

  it("reconciles without other owners' alerts when they cannot be read back", async () => {
    const { client, sent } = producer();
    const outbox = outboxFor(client);
    outbox.assign(0, 0n);
    outbox.takeOver(0, Promise.reject(new Error('broker unreachable')));
    outbox.committed(0, 2n, [row(1n, false), row(2n, true)]);
    await waitFor('the committed anomaly alerted', () => sent.length === 1, { timeoutMs: 2000, intervalMs: 5 });
    assert.deepEqual(sent, [{ id: 'web-logs-0-2', retracted: false }]);
    await outbox.close(100);
  });
});

describe('reading alerts back', () => {
  const message = (key: string | null, value: object, offset = 0n): ConsumedMessage => ({
    partition: 0,
    offset,
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(JSON.stringify(value)),
    timestampMs: 0,
  });

  it('names partition and offset only for ids of the source topic', () => {
    assert.deepEqual(alertKeyOffset('web-logs-3-1200', 'web-logs'), { partition: 3, offset: 1200n });
    assert.deepEqual(alertKeyOffset('web-logs-eu-3-1200', 'web-logs-eu'), { partition: 3, offset: 1200n });
    assert.equal(alertKeyOffset('web-logs-eu-3-1200', 'web-logs'), undefined, 'another topic whose name starts the same');
    assert.equal(alertKeyOffset('web-logs-3', 'web-logs'), undefined);
    assert.equal(alertKeyOffset('web-logsx-3-1', 'web-logs'), undefined);
  });

  it('keeps the offsets after the reconciled one whose latest message is an alert, per partition', () => {
    const earlier = new EarlierAlerts(
      'web-logs',
      new Map([
        [0, 10n],
        [2, -1n],
      ]),
    );
    earlier.add([
      message('web-logs-0-9', { id: 'web-logs-0-9' }),
      message('web-logs-0-11', { id: 'web-logs-0-11' }),
      message('web-logs-0-12', { id: 'web-logs-0-12' }),
      message('web-logs-0-12', { id: 'web-logs-0-12', retracted: true }),
      message('web-logs-0-14', { id: 'web-logs-0-14', retracted: true }),
      message('web-logs-0-14', { id: 'web-logs-0-14' }),
      message('web-logs-1-20', { id: 'web-logs-1-20' }),
      message('web-logs-2-0', { id: 'web-logs-2-0' }),
      message('other-0-15', { id: 'other-0-15' }),
      message(null, {}),
    ]);
    assert.deepEqual(earlier.offsets(0), [11n, 14n]);
    assert.deepEqual(earlier.offsets(1), [], 'a partition not asked for');
    assert.deepEqual(earlier.offsets(2), [0n]);
  });

  it('reads each partition from the first offset at the time to its end, skipping empty ones', () => {
    const ranges = readRanges(
      [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '7' },
        { partition: 2, offset: '0' },
      ],
      [
        { partition: 0, high: '9' },
        { partition: 1, high: '7' },
        { partition: 2, high: '3' },
      ],
    );
    assert.deepEqual(
      [...ranges],
      [
        [0, { start: 5n, end: 9n }],
        [2, { start: 0n, end: 3n }],
      ],
    );
  });
});

describe('dead letters', () => {
  it('cut an oversized payload to a bounded size, flagged, with the original size', () => {
    const value = Buffer.alloc(200_000, 0x61);
    const message = deadLetterMessage(
      {
        topic: 't',
        partition: 1,
        offset: 7n,
        kafkaTimestampMs: 0,
        ingestTimeMs: 0,
        value,
        rejection: { code: 'oversize', message: 'too big' },
      },
      1024,
    );
    assert.equal((message.value as Buffer).length, 1024);
    assert.equal(message.headers?.['logstream.truncated'], 'true');
    assert.equal(message.headers?.['logstream.original_bytes'], '200000');
    assert.equal(message.headers?.['logstream.reason_code'], 'oversize');
  });
});
