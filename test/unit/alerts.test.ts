// The alert outbox: at least once with back-off, never blocking; alerts reconciled with committed rows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { MessageProducer, OutgoingMessage } from '../../clients/kafka/index.js';
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

describe('AlertOutbox', () => {
  it('keeps retrying while the broker is down and sends every alert once it is back', async () => {
    const { client, sent, state } = producer();
    const outbox = new AlertOutbox({
      topic: 'alerts',
      sourceTopic: 'web-logs',
      producer: () => client,
      logger: pino({ level: 'silent' }),
      initialBackoffMs: 1,
      maxBackoffMs: 5,
    });
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
    const outbox = new AlertOutbox({
      topic: 'alerts',
      sourceTopic: 'web-logs',
      producer: () => client,
      logger: pino({ level: 'silent' }),
      initialBackoffMs: 1,
    });
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
