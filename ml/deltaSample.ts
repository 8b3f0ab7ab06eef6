// Training rows from the lakehouse: a seeded uniform sample of the Delta `logs` table over a
// lookback window (file skipping on event_time keeps the scan to the window's files).
import { join } from 'node:path';
import type { Table, Vector } from 'apache-arrow';
import { timestampMicros } from '../clients/delta/arrowColumns.js';
import { DeltaTable } from '../clients/delta/index.js';
import { createRandom } from '../generator/random.js';
import type { LogEvent } from '../logs/record.js';
import { TrainingDataError } from './errors.js';

export interface DeltaSampleOptions {
  /** Folder holding the lakehouse tables (config delta.root). */
  root: string;
  lookbackHours: number;
  /** Rows to keep at most (config ml.training_samples). */
  samples: number;
  seed: number;
  nowMs?: number;
}

const COLUMNS = ['event_time', 'client_ip', 'method', 'path', 'query', 'path_template', 'status', 'response_time_ms', 'response_bytes', 'referrer', 'user_agent', 'label'];

export async function sampleLogsFromDelta(options: DeltaSampleOptions): Promise<{ events: LogEvent[]; scannedRows: number; source: string }> {
  const nowMs = options.nowMs ?? Date.now();
  const sinceMs = nowMs - options.lookbackHours * 3_600_000;
  const tablePath = join(options.root, 'logs');
  const table = await DeltaTable.open(tablePath);
  const snapshot = await table.snapshot();
  const random = createRandom(options.seed);
  // Reservoir sampling (algorithm R): a uniform sample without holding the whole window in memory.
  const reservoir: LogEvent[] = [];
  let scannedRows = 0;
  const since = new Date(sinceMs).toISOString();
  for await (const { table: batch } of snapshot.scanBatches({ predicate: `event_time >= ${since}`, columns: COLUMNS })) {
    for (const event of eventsFromBatch(batch)) {
      if (event.timestampMs < sinceMs || event.timestampMs > nowMs) continue;
      scannedRows += 1;
      if (reservoir.length < options.samples) reservoir.push(event);
      else {
        const slot = Math.floor(random.next() * scannedRows);
        if (slot < options.samples) reservoir[slot] = event;
      }
    }
  }
  const source = `delta:${tablePath} since ${since} (${scannedRows} rows in window, version ${snapshot.version})`;
  if (reservoir.length === 0) {
    throw new TrainingDataError(`the Delta logs table at ${tablePath} has no rows since ${since}`, 'run the pipeline for a while, raise ml.lookback_hours, or train from a file with --data');
  }
  reservoir.sort((a, b) => a.timestampMs - b.timestampMs);
  return { events: reservoir, scannedRows, source };
}

function eventsFromBatch(batch: Table): LogEvent[] {
  const text = (name: string): Vector | null => batch.getChild(name);
  const times = timestampMicros(text('event_time')!);
  const columns = Object.fromEntries(COLUMNS.slice(1).map((name) => [name, text(name)]));
  const events: LogEvent[] = [];
  for (let row = 0; row < batch.numRows; row += 1) {
    const micros = times[row];
    if (micros === null || micros === undefined) continue;
    const value = (name: string): unknown => columns[name]?.get(row) ?? null;
    events.push({
      timestampMs: Number(micros / 1000n),
      clientIp: String(value('client_ip') ?? ''),
      method: String(value('method') ?? 'GET'),
      path: String(value('path') ?? '/'),
      query: (value('query') as string | null) ?? null,
      pathTemplate: String(value('path_template') ?? '/'),
      status: Number(value('status') ?? 0),
      responseTimeMs: value('response_time_ms') === null ? null : Number(value('response_time_ms')),
      responseBytes: Number(value('response_bytes') ?? 0),
      referrer: (value('referrer') as string | null) ?? null,
      userAgent: (value('user_agent') as string | null) ?? null,
      label: (value('label') as string | null) ?? null,
    });
  }
  return events;
}
