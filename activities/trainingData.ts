// Training rows for the scheduled training run: the most recent rows of the Delta logs table
// inside the lookback window. Pure selection in latestEvents; the scan is the thin I/O part.
import { join } from 'node:path';
import { DeltaTable } from '../clients/delta/index.js';
import type { LogEvent } from '../logs/record.js';
import { TABLE_FOLDERS } from '../streamers/deltaSinks.js';
import { recordsFromLogsTable } from '../streamers/tables.js';

/** The newest `limit` events at or after `sinceMs`, oldest first. */
export function latestEvents(events: readonly LogEvent[], sinceMs: number, limit: number): LogEvent[] {
  return events
    .filter((event) => event.timestampMs >= sinceMs)
    .sort((left, right) => left.timestampMs - right.timestampMs)
    .slice(-limit);
}

export async function sampleRecentEvents(deltaRoot: string, lookbackHours: number, limit: number, nowMs = Date.now()): Promise<LogEvent[]> {
  const table = await DeltaTable.open(join(deltaRoot, TABLE_FOLDERS.logs));
  const snapshot = await table.snapshot();
  const sinceMs = nowMs - lookbackHours * 3_600_000;
  let kept: LogEvent[] = [];
  for await (const { table: rows } of snapshot.scanBatches()) {
    const events = recordsFromLogsTable(rows).map(toLogEvent);
    // Trim as we go so memory stays near `limit` rows whatever the table size.
    kept = latestEvents([...kept, ...events], sinceMs, limit);
  }
  return kept;
}

function toLogEvent(record: LogEvent): LogEvent {
  const { timestampMs, clientIp, method, path, query, pathTemplate, status, responseTimeMs, responseBytes, referrer, userAgent, label } = record;
  return { timestampMs, clientIp, method, path, query, pathTemplate, status, responseTimeMs, responseBytes, referrer, userAgent, label };
}
