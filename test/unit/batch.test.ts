import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregatePerMinute, percentile } from '../../streamers/aggregate.js';
import { PendingBatch, lastOffsets } from '../../streamers/batch.js';
import { SearchBacklog } from '../../streamers/searchBacklog.js';
import { int64Column, timestampColumn, utf8Column } from '../../streamers/arrowColumns.js';
import { encodePayload, logsTable, quarantineTable, utcDate, utcHour } from '../../streamers/tables.js';
import type { ScoredRecord } from '../../streamers/sinks.js';

const limits = { maxRows: 3, maxWaitMs: 1000 };

describe('PendingBatch', () => {
  it('is due when full or when the oldest row waited max wait', () => {
    const batch = new PendingBatch<{ partition: number; offset: bigint }>();
    assert.equal(batch.isDue(0, limits), false);
    batch.add({ partition: 0, offset: 1n }, 10_000);
    assert.equal(batch.isDue(10_999, limits), false);
    assert.equal(batch.isDue(11_000, limits), true);
    batch.add({ partition: 1, offset: 1n }, 10_500);
    batch.add({ partition: 0, offset: 2n }, 10_600);
    assert.equal(batch.isFull(limits), true);
    assert.deepEqual(
      batch.take().map((row) => row.offset),
      [1n, 1n, 2n],
    );
    assert.equal(batch.size, 0);
    assert.equal(batch.isDue(99_999, limits), false);
  });

  it('drops rows of partitions that moved away and keeps order of the rest', () => {
    const batch = new PendingBatch<{ partition: number; offset: bigint }>();
    for (const [partition, offset] of [
      [0, 5n],
      [1, 7n],
      [0, 6n],
      [2, 1n],
    ] as const)
      batch.add({ partition, offset }, 0);
    assert.equal(
      batch.dropPartitions((partition) => partition !== 1),
      1,
    );
    assert.deepEqual(batch.take(), [
      { partition: 0, offset: 5n },
      { partition: 0, offset: 6n },
      { partition: 2, offset: 1n },
    ]);
  });
});

describe('lastOffsets', () => {
  it('lastOffsets gives the txn version of each partition', () => {
    assert.deepEqual(
      lastOffsets([
        { partition: 0, offset: 3n },
        { partition: 1, offset: 9n },
        { partition: 0, offset: 4n },
      ]),
      new Map([
        [0, 4n],
        [1, 9n],
      ]),
    );
  });
});

describe('aggregatePerMinute', () => {
  const minute = Date.UTC(2026, 5, 1, 12, 0);
  const row = (
    secondOffset: number,
    status: number,
    responseTimeMs: number | null,
    isAnomaly = false,
    pathTemplate = '/products/{id}',
  ) => ({
    timestampMs: minute + secondOffset * 1000,
    pathTemplate,
    method: 'GET',
    status,
    responseTimeMs,
    isAnomaly,
  });

  it('counts requests, errors, anomalies and latency percentiles per minute and endpoint', () => {
    const latencies = Array.from({ length: 100 }, (_, index) => index + 1);
    const rows = [
      ...latencies.map((latency, index) => row(index % 60, index < 3 ? 503 : index < 10 ? 404 : 200, latency, index < 2)),
      row(61, 200, 7),
      row(5, 200, null, false, '/'),
    ];
    const aggregates = aggregatePerMinute(rows);
    assert.equal(aggregates.length, 3);
    const [home, products, nextMinute] = aggregates;
    assert.deepEqual(
      { path: home!.pathTemplate, count: home!.requestCount, p50: home!.latencyP50Ms, latencyCount: home!.latencyCount },
      { path: '/', count: 1, p50: null, latencyCount: 0 },
    );
    assert.equal(products!.minuteStartMs, minute);
    assert.equal(products!.requestCount, 100);
    assert.equal(products!.serverErrorCount, 3);
    assert.equal(products!.clientErrorCount, 7);
    assert.equal(products!.anomalyCount, 2);
    assert.equal(products!.latencyP50Ms, 50);
    assert.equal(products!.latencyP95Ms, 95);
    assert.equal(products!.latencyP99Ms, 99);
    assert.equal(products!.latencyMaxMs, 100);
    assert.equal(products!.latencySumMs, 5050);
    assert.equal(nextMinute!.minuteStartMs, minute + 60_000);
    assert.equal(nextMinute!.requestCount, 1);
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentile([10], 0.99), 10);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.throws(() => percentile([], 0.5), RangeError);
  });
});

describe('tables', () => {
  const record: ScoredRecord = {
    timestampMs: Date.UTC(2026, 5, 1, 23, 59, 59, 500),
    clientIp: '10.0.0.1',
    method: 'GET',
    path: '/a',
    query: null,
    pathTemplate: '/a',
    status: 200,
    responseTimeMs: null,
    responseBytes: 10,
    referrer: null,
    userAgent: null,
    label: null,
    topic: 'web-logs',
    partition: 2,
    offset: 9_007_199_254_740_993n,
    kafkaTimestampMs: 1,
    ingestTimeMs: 2,
    anomalyScore: 0.1,
    isAnomaly: false,
    cluster: 3,
    modelVersion: '7',
    reasons: [],
  };

  it('logs rows carry date/hour partitions, exact int64 offsets and nulls', () => {
    const table = logsTable([record]);
    assert.equal(table.numRows, 1);
    const row = table.get(0)!.toJSON() as Record<string, unknown>;
    assert.equal(row.date, '2026-06-01');
    assert.equal(row.hour, 23);
    assert.equal(row.kafka_offset, 9_007_199_254_740_993n);
    assert.equal(row.response_time_ms, null);
    assert.equal(utcDate(0), '1970-01-01');
    assert.equal(utcHour(3_600_000), 1);
  });

  it('quarantine keeps invalid UTF-8 payloads as base64 and the reason', () => {
    const value = Buffer.from([0xff, 0x00, 0x41]);
    const rejection = { code: 'invalid_utf8' as const, message: 'message is not valid UTF-8' };
    assert.deepEqual(encodePayload({ value, rejection }), { text: '/wBB', encoding: 'base64' });
    const table = quarantineTable([{ topic: 't', partition: 0, offset: 4n, kafkaTimestampMs: 1, ingestTimeMs: 2, value, rejection }]);
    const row = table.get(0)!.toJSON() as Record<string, unknown>;
    assert.equal(row.reason_code, 'invalid_utf8');
    assert.equal(row.payload, '/wBB');
    assert.equal(row.payload_bytes, 3n);
  });
});

describe('SearchBacklog', () => {
  const records = (count: number, start: number) =>
    Array.from({ length: count }, (_, index) => ({ partition: 0, offset: BigInt(start + index) }) as ScoredRecord);

  it('keeps committed batches in order and turns batches past the memory cap into Delta ranges', () => {
    const backlog = new SearchBacklog(5);
    backlog.add(records(3, 0), new Map([[0, 2n]]), new Map([[0, -1n]]));
    backlog.add(records(3, 3), new Map([[0, 5n]]), new Map([[0, 2n]]));
    backlog.add(records(2, 6), new Map([[0, 7n]]), new Map([[0, 5n]]));
    assert.equal(backlog.size, 3, 'only the first batch fits in memory');
    const first = backlog.shift();
    assert.equal(first?.kind, 'records');
    assert.deepEqual(backlog.peek(), { kind: 'range', partition: 0, afterOffset: 2n, throughOffset: 7n }, 'adjacent ranges merge');
    backlog.shift();
    assert.equal(backlog.isEmpty, true);
    assert.equal(backlog.size, 0);
  });

  it('ignores empty ranges', () => {
    const backlog = new SearchBacklog();
    backlog.addRange(1, 10n, 10n);
    assert.equal(backlog.isEmpty, true);
  });
});

describe('Arrow columns', () => {
  it('utf8 keeps non-ASCII text and nulls', () => {
    const column = utf8Column(['/café', null, '', 'plain', '日本']);
    assert.deepEqual(column.toArray(), ['/café', null, '', 'plain', '日本']);
    assert.equal(column.nullCount, 1);
    assert.deepEqual(utf8Column(['a', null, 'bc']).toArray(), ['a', null, 'bc']);
    // One value repeated (topic, model version) takes a shortcut that must give the same column.
    assert.deepEqual(utf8Column(['web-logs', 'web-logs', 'web-logs']).toArray(), ['web-logs', 'web-logs', 'web-logs']);
    assert.deepEqual(utf8Column(['日本', '日本']).toArray(), ['日本', '日本']);
    assert.deepEqual(utf8Column(['', '']).toArray(), ['', '']);
  });

  it('utf8 read through a reader keeps each row where it was, with nulls between non-ASCII values', () => {
    const rows = [{ path: '/a' }, { path: null }, { path: '/ünï' }, { path: undefined }, { path: '/😀x' }, { path: '/z' }];
    const column = utf8Column(rows, (row) => row.path);
    assert.deepEqual(column.toArray(), ['/a', null, '/ünï', null, '/😀x', '/z']);
    assert.equal(column.nullCount, 2);
    assert.deepEqual([...column.data[0]!.valueOffsets], [0, 2, 2, 8, 8, 14, 16]);
  });

  it('int64 and timestamps are exact for large and negative values', () => {
    assert.deepEqual(
      [...int64Column([0, -1, 2 ** 40 + 3, 9_007_199_254_740_993n, null])],
      [0n, -1n, 1_099_511_627_779n, 9_007_199_254_740_993n, null],
    );
    const column = timestampColumn([Date.UTC(2026, 5, 1, 12, 0, 0, 250), null]);
    assert.equal(column.get(0), Date.UTC(2026, 5, 1, 12, 0, 0, 250));
    assert.equal(column.get(1), null);
    assert.equal((column.data[0]!.values as BigInt64Array)[0], BigInt(Date.UTC(2026, 5, 1, 12, 0, 0, 250)) * 1000n);
  });
});

describe('PendingBatch bytes', () => {
  it('is full at the byte cap as well as the row cap, and forgets the bytes of dropped partitions', () => {
    const batch = new PendingBatch<{ partition: number; offset: bigint }>();
    const limits = { maxRows: 1000, maxBytes: 1000, maxWaitMs: 1000 };
    batch.add({ partition: 0, offset: 1n }, 0, 400);
    batch.add({ partition: 1, offset: 1n }, 0, 400);
    assert.equal(batch.isFull(limits), false);
    batch.add({ partition: 0, offset: 2n }, 0, 400);
    assert.equal(batch.isFull(limits), true);
    batch.dropPartitions((partition) => partition === 1);
    assert.equal(batch.sizeBytes, 400);
    assert.equal(batch.isFull(limits), false);
  });
});
