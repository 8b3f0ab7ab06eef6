// Training rows sampled from a Delta logs table written with the streamer's own table layout.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DeltaTable } from '../../clients/delta/index.js';
import { createTrafficGenerator } from '../../generator/index.js';
import { sampleLogsFromDelta } from '../../training/deltaSample.js';
import { ClientWindow, type ClientStats } from '../../ml/clientWindow.js';
import type { LogEvent } from '../../logs/record.js';
import { TrainingDataError } from '../../ml/errors.js';
import { scoreEvents } from '../../ml/scoreEvents.js';
import { trainModel } from '../../ml/train.js';
import { LOGS_PARTITION_COLUMNS, logsTable } from '../../streamers/tables.js';
import type { ScoredRecord } from '../../streamers/sinks.js';

const NOW_MS = Date.UTC(2026, 2, 10, 12);

async function lakehouseWithLogs(hoursBack: number, rows: number): Promise<{ root: string; events: ScoredRecord[] }> {
  const root = mkdtempSync(join(tmpdir(), 'logstream-ml-delta-'));
  const generator = createTrafficGenerator({
    seed: 5,
    startTimeMs: NOW_MS - hoursBack * 3_600_000,
    ratePerSecond: rows / (hoursBack * 3600),
  });
  const events: ScoredRecord[] = Array.from({ length: rows }, (_, index) => ({
    ...generator.next(),
    topic: 'web-logs',
    partition: 0,
    offset: BigInt(index),
    kafkaTimestampMs: NOW_MS,
    ingestTimeMs: NOW_MS,
    anomalyScore: 0,
    isAnomaly: false,
    cluster: 0,
    modelVersion: 'none',
    reasons: [],
  }));
  const data = logsTable(events);
  const table = await DeltaTable.create(join(root, 'logs'), data.schema, { partitionColumns: [...LOGS_PARTITION_COLUMNS], name: 'logs' });
  for (let start = 0; start < events.length; start += 4_000) await table.append(logsTable(events.slice(start, start + 4_000)));
  return { root, events };
}

describe('training sample from the Delta logs table', () => {
  it('takes time slices of the lookback window, reproducibly, as canonical events in time order', async () => {
    const { root, events } = await lakehouseWithLogs(48, 4_000);
    const sample = await sampleLogsFromDelta({ root, lookbackHours: 24, samples: 1_000, seed: 3, nowMs: NOW_MS });
    assert.ok(sample.events.length >= 500 && sample.events.length <= 1_100, `${sample.events.length} rows`);
    assert.ok(sample.slices.length >= 12);
    assert.ok(sample.events.every((event, index) => index === 0 || event.timestampMs >= sample.events[index - 1]!.timestampMs));
    assert.ok(sample.events.every((event) => event.timestampMs >= NOW_MS - 24 * 3_600_000 && event.timestampMs <= NOW_MS));
    assert.ok(
      sample.events.every((event) => sample.slices.some((slice) => event.timestampMs >= slice.startMs && event.timestampMs < slice.endMs)),
      'every row lies in a slice',
    );
    const original = events.find(
      (event) => event.timestampMs === sample.events[0]!.timestampMs && event.clientIp === sample.events[0]!.clientIp,
    )!;
    assert.deepEqual(sample.events[0], {
      timestampMs: original.timestampMs,
      clientIp: original.clientIp,
      method: original.method,
      path: original.path,
      query: original.query,
      pathTemplate: original.pathTemplate,
      status: original.status,
      responseTimeMs: original.responseTimeMs,
      responseBytes: original.responseBytes,
      referrer: original.referrer,
      userAgent: original.userAgent,
      label: original.label,
    });
    const again = await sampleLogsFromDelta({ root, lookbackHours: 24, samples: 1_000, seed: 3, nowMs: NOW_MS });
    assert.deepEqual(again.events, sample.events);
  });

  it("records each row's client statistics as a streamer reading the whole table computed them", async () => {
    // 20 minutes at 20 logs/s: far more rows than the sample holds.
    const { root, events } = await lakehouseWithLogs(1 / 3, 24_000);
    const sample = await sampleLogsFromDelta({ root, lookbackHours: 1, samples: 2_000, seed: 9, nowMs: NOW_MS });
    assert.ok(sample.events.length > 1_500 && sample.events.length <= 2_000, `${sample.events.length} rows`);
    assert.ok(sample.scannedRows > sample.events.length);
    assert.equal(sample.clientStats.length, sample.events.length);
    const streamer = new ClientWindow();
    const key = (event: LogEvent) => `${event.timestampMs} ${event.clientIp} ${event.path}`;
    const seen = new Map<string, ClientStats | 'ambiguous'>();
    for (const event of events) {
      const stats = { ...streamer.observe(event) };
      seen.set(key(event), seen.has(key(event)) ? 'ambiguous' : stats); // a flood repeats a request within a millisecond
    }
    sample.events.forEach((event, index) => {
      const expected = seen.get(key(event))!;
      if (expected === 'ambiguous') return;
      const recorded = sample.clientStats[index]!;
      assert.deepEqual([recorded.requests, recorded.distinctPaths], [expected.requests, expected.distinctPaths]);
    });
    const busy = sample.clientStats.filter((stats) => stats.requests >= 5).length / sample.events.length;
    assert.ok(busy > 0.3, `${(100 * busy).toFixed(0)}% of rows come from clients with 5+ requests in their window`);
  });

  it('trains, with those statistics, a model that leaves the same traffic alone', async () => {
    const { root } = await lakehouseWithLogs(1 / 3, 24_000);
    const sample = await sampleLogsFromDelta({ root, lookbackHours: 1, samples: 1_500, seed: 9, nowMs: NOW_MS });
    const { model } = await trainModel(sample.events, {
      kMin: 2,
      kMax: 4,
      seed: 9,
      thresholdPercentile: 99,
      source: sample.source,
      origin: 'site',
      clientStats: sample.clientStats,
    });
    const later = createTrafficGenerator({ seed: 77, startTimeMs: NOW_MS + 3_600_000, ratePerSecond: 20, anomalyRate: 0 });
    const fresh = Array.from({ length: 20_000 }, () => later.next());
    const results = await scoreEvents(model, fresh, 'delta', { reasons: false });
    const flagged = results.slice(5_000).filter((result) => result.isAnomaly).length / 15_000;
    assert.ok(flagged < 0.01, `flags ${(100 * flagged).toFixed(2)}% of ordinary traffic`);
  });

  it('says clearly when the window holds no rows', async () => {
    const { root } = await lakehouseWithLogs(2, 200);
    await assert.rejects(
      sampleLogsFromDelta({ root, lookbackHours: 1, samples: 100, seed: 1, nowMs: NOW_MS + 10 * 3_600_000 }),
      TrainingDataError,
    );
  });
});
