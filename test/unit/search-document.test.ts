import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { documentId, logsIndexName, logsIndexPattern, toIndexedDocument, toSearchDocument } from '../../clients/search/index.js';
import { logsIndexDayMs } from '../../clients/search/document.js';
import type { LogRecord } from '../../logs/record.js';

function record(overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    timestampMs: Date.UTC(2026, 10, 28, 23, 59, 59, 250),
    clientIp: '203.0.113.7',
    method: 'POST',
    path: '/api/orders/42',
    query: 'coupon=SPRING',
    pathTemplate: '/api/orders/{id}',
    status: 503,
    responseTimeMs: 1234.5,
    responseBytes: 512,
    referrer: 'https://shop.example/cart',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    label: 'error_burst',
    topic: 'web-logs',
    partition: 2,
    offset: 9_007_199_254_740_993n,
    kafkaTimestampMs: Date.UTC(2026, 10, 29, 0, 0, 0, 100),
    ingestTimeMs: Date.UTC(2026, 10, 29, 0, 0, 1, 0),
    ...overrides,
  };
}

describe('toSearchDocument', () => {
  it('uses ECS names, nanosecond event.duration and logstream.* for pipeline fields', () => {
    const document = toSearchDocument(record(), { score: 3.25, isAnomaly: true, cluster: 4, modelVersion: '7' });
    assert.deepEqual(document, {
      '@timestamp': '2026-11-28T23:59:59.250Z',
      event: { ingested: '2026-11-29T00:00:01.000Z', duration: 1_234_500_000 },
      source: { ip: '203.0.113.7', address: '203.0.113.7' },
      http: {
        request: { method: 'POST', referrer: 'https://shop.example/cart' },
        response: { status_code: 503, body: { bytes: 512 } },
      },
      url: { path: '/api/orders/42', query: 'coupon=SPRING' },
      user_agent: { original: 'Mozilla/5.0 (X11; Linux x86_64)' },
      logstream: {
        path_template: '/api/orders/{id}',
        response_time_ms: 1234.5,
        label: 'error_burst',
        kafka: { topic: 'web-logs', partition: 2, offset: '9007199254740993', timestamp: '2026-11-29T00:00:00.100Z' },
        anomaly: { score: 3.25, is_anomaly: true, cluster: 4, model_version: '7' },
      },
    });
  });

  it('leaves out what the record does not carry instead of writing nulls', () => {
    const document = toSearchDocument(record({ responseTimeMs: null, query: null, referrer: null, userAgent: null, label: null }));
    assert.equal(document.event.duration, undefined);
    assert.equal(document.logstream.response_time_ms, undefined);
    assert.deepEqual(document.url, { path: '/api/orders/42' });
    assert.deepEqual(document.http.request, { method: 'POST' });
    assert.equal(document.user_agent, undefined);
    assert.equal(document.logstream.label, undefined);
    assert.equal(document.logstream.anomaly, undefined);
    assert.ok(!JSON.stringify(document).includes('null'));
  });

  it('keeps a client address that is not an IP out of the ip-typed field', () => {
    const document = toSearchDocument(record({ clientIp: 'crawler-12.example.net' }));
    assert.deepEqual(document.source, { address: 'crawler-12.example.net' });
    assert.equal(toSearchDocument(record({ clientIp: '2001:db8::1' })).source.ip, '2001:db8::1');
  });

  it('keeps every digit of a 64-bit offset', () => {
    assert.equal(toSearchDocument(record({ offset: 9_223_372_036_854_775_807n })).logstream.kafka.offset, '9223372036854775807');
  });
});

describe('document ids and index names', () => {
  it('gives the same id to the same Kafka message, and different ids to different ones', () => {
    assert.equal(documentId(record()), 'web-logs-2-9007199254740993');
    assert.equal(documentId(record()), documentId(record({ status: 200, timestampMs: 0 })));
    assert.notEqual(documentId(record({ partition: 1 })), documentId(record()));
    assert.notEqual(documentId(record({ offset: 1n })), documentId(record({ offset: 2n })));
  });

  it('names daily indices by the UTC date of the event', () => {
    assert.equal(logsIndexName('web-logs', Date.UTC(2026, 10, 28, 23, 59, 59, 999)), 'web-logs-logs-2026.11.28');
    assert.equal(logsIndexName('web-logs', Date.UTC(2026, 10, 29)), 'web-logs-logs-2026.11.29');
    assert.equal(logsIndexName('p', Date.UTC(2027, 0, 5, 12)), 'p-logs-2027.01.05');
    assert.equal(logsIndexPattern('web-logs'), 'web-logs-logs-*');
    assert.throws(() => logsIndexName('p', Number.NaN), RangeError);
  });

  it('reads the day back from a daily index name and ignores other names', () => {
    assert.equal(logsIndexDayMs('p', 'p-logs-2027.01.05'), Date.UTC(2027, 0, 5));
    assert.equal(logsIndexDayMs('p', 'p-logs-2027.02.30'), undefined);
    assert.equal(logsIndexDayMs('p', 'p-logs-2027.01.05-restored'), undefined);
    assert.equal(logsIndexDayMs('p', 'q-logs-2027.01.05'), undefined);
  });

  it('puts a record into the index of its event day under its deterministic id', () => {
    const indexed = toIndexedDocument('shop', record());
    assert.equal(indexed.index, 'shop-logs-2026.11.28');
    assert.equal(indexed.id, 'web-logs-2-9007199254740993');
    assert.deepEqual(indexed.document, toSearchDocument(record()));
  });
});
