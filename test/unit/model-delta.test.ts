// Training rows sampled from a Delta logs table written with the streamer's own table layout.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DeltaTable } from '../../clients/delta/index.js';
import { createTrafficGenerator } from '../../generator/index.js';
import { sampleLogsFromDelta } from '../../ml/deltaSample.js';
import { TrainingDataError } from '../../ml/errors.js';
import { LOGS_PARTITION_COLUMNS, logsTable } from '../../streamers/tables.js';
import type { ScoredRecord } from '../../streamers/sinks.js';

const NOW_MS = Date.UTC(2026, 2, 10, 12);

async function lakehouseWithLogs(hoursBack: number, rows: number): Promise<{ root: string; events: ScoredRecord[] }> {
  const root = mkdtempSync(join(tmpdir(), 'logstream-ml-delta-'));
  const generator = createTrafficGenerator({ seed: 5, startTimeMs: NOW_MS - hoursBack * 3_600_000, ratePerSecond: rows / (hoursBack * 3600) });
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
  for (let start = 0; start < events.length; start += 1_000) await table.append(logsTable(events.slice(start, start + 1_000)));
  return { root, events };
}

describe('training sample from the Delta logs table', () => {
  it('samples the lookback window uniformly, reproducibly, as canonical events in time order', async () => {
    const { root, events } = await lakehouseWithLogs(48, 4_000);
    const inWindow = events.filter((event) => event.timestampMs >= NOW_MS - 24 * 3_600_000 && event.timestampMs <= NOW_MS);
    const sample = await sampleLogsFromDelta({ root, lookbackHours: 24, samples: 1_000, seed: 3, nowMs: NOW_MS });
    assert.equal(sample.scannedRows, inWindow.length);
    assert.equal(sample.events.length, 1_000);
    assert.ok(sample.events.every((event, index) => index === 0 || event.timestampMs >= sample.events[index - 1]!.timestampMs));
    assert.ok(sample.events.every((event) => event.timestampMs >= NOW_MS - 24 * 3_600_000));
    const original = events.find((event) => event.timestampMs === sample.events[0]!.timestampMs && event.clientIp === sample.events[0]!.clientIp)!;
    assert.deepEqual(sample.events[0], {
      timestampMs: original.timestampMs, clientIp: original.clientIp, method: original.method, path: original.path, query: original.query,
      pathTemplate: original.pathTemplate, status: original.status, responseTimeMs: original.responseTimeMs, responseBytes: original.responseBytes,
      referrer: original.referrer, userAgent: original.userAgent, label: original.label,
    });
    const again = await sampleLogsFromDelta({ root, lookbackHours: 24, samples: 1_000, seed: 3, nowMs: NOW_MS });
    assert.deepEqual(again.events, sample.events);
  });

  it('says clearly when the window holds no rows', async () => {
    const { root } = await lakehouseWithLogs(2, 200);
    await assert.rejects(sampleLogsFromDelta({ root, lookbackHours: 1, samples: 100, seed: 1, nowMs: NOW_MS + 10 * 3_600_000 }), TrainingDataError);
  });
});
