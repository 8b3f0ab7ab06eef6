// Training rows from the lakehouse: short time slices of the Delta `logs` table spread over a
// lookback window, each row with the client statistics the streamer computed for it (see
// trainingSlices.ts). File skipping on event_time keeps each scan to the slice's files.
import { join } from 'node:path';
import type { Table, Vector } from 'apache-arrow';
import { timestampMicros } from '../clients/delta/arrowColumns.js';
import { DeltaTable, parseStats, type Snapshot } from '../clients/delta/index.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from '../ml/clientWindow.js';
import { TrainingDataError } from '../ml/errors.js';
import { planSlices, SliceSampler, SLICE_MS, type TimeSlice } from '../ml/trainingSlices.js';

export interface DeltaSampleOptions {
  /** Folder holding the lakehouse tables (config delta.root). */
  root: string;
  lookbackHours: number;
  /** Rows to keep at most (config ml.training_samples). */
  samples: number;
  seed: number;
  nowMs?: number;
}

export interface DeltaSample {
  /** In time order. */
  events: LogEvent[];
  /** Per event, its client's statistics as the streamer computed them (for trainModel's clientStats). */
  clientStats: ClientStats[];
  /** The slices the rows come from. */
  slices: TimeSlice[];
  /** Rows read from the slices, warm-up included. */
  scannedRows: number;
  source: string;
}

const COLUMNS = [
  'event_time',
  'client_ip',
  'method',
  'path',
  'query',
  'path_template',
  'status',
  'response_time_ms',
  'response_bytes',
  'referrer',
  'user_agent',
  'label',
];

export async function sampleLogsFromDelta(options: DeltaSampleOptions): Promise<DeltaSample> {
  const nowMs = options.nowMs ?? Date.now();
  const sinceMs = nowMs - options.lookbackHours * 3_600_000;
  const tablePath = join(options.root, 'logs');
  const table = await DeltaTable.open(tablePath);
  const snapshot = await table.snapshot();
  const since = new Date(sinceMs).toISOString();
  const data = dataInWindow(snapshot, since);
  // Slices go where the data is: a table younger than the lookback window starts later, one whose
  // streamer stopped ends earlier.
  const slices = planSlices({
    sinceMs: Math.max(sinceMs, data.firstMs ?? sinceMs),
    nowMs: Math.min(nowMs, data.lastMs ?? nowMs),
    estimatedRows: data.rows,
    samples: options.samples,
    seed: options.seed,
  });
  const events: LogEvent[] = [];
  const clientStats: ClientStats[] = [];
  let scannedRows = 0;
  for (const [index, slice] of slices.entries()) {
    // What a slice leaves unused (a gap in the data) goes to the slices after it.
    const budget = Math.ceil((options.samples - events.length) / (slices.length - index));
    const sampler = new SliceSampler(slice, budget, options.seed);
    const predicate = `event_time >= ${new Date(slice.warmUpFromMs).toISOString()} AND event_time < ${new Date(slice.endMs).toISOString()}`;
    // In time order as far as file statistics tell: the client window expects requests as they came.
    for await (const { table: batch } of snapshot.scanBatches({ predicate, columns: COLUMNS, filesByMinOf: 'event_time' })) {
      scannedRows += batch.numRows;
      offerBatch(batch, sampler);
    }
    for (const row of sampler.rows()) {
      events.push(row.event);
      clientStats.push(row.client);
    }
  }
  if (events.length === 0) {
    throw new TrainingDataError(
      `the Delta logs table at ${tablePath} has no rows since ${since}`,
      'run the pipeline for a while, raise ml.lookback_hours, or train from a file with --data',
    );
  }
  const source = `delta:${tablePath} since ${since} (${slices.length} slices of ${SLICE_MS / 1000} s, ${scannedRows} rows read, version ${snapshot.version})`;
  return { events, clientStats, slices, scannedRows, source };
}

/**
 * From the statistics of the files that may hold rows since `since`: how many rows they hold and
 * their first and last event times (undefined when a file has no statistics: it could hold any time).
 */
function dataInWindow(snapshot: Snapshot, since: string): { rows: number; firstMs?: number; lastMs?: number } {
  let rows = 0;
  let firstMs: number | undefined = Number.POSITIVE_INFINITY;
  let lastMs: number | undefined = Number.NEGATIVE_INFINITY;
  for (const file of snapshot.plan(`event_time >= ${since}`).files) {
    const stats = parseStats(file.stats);
    rows += stats?.numRecords ?? 0;
    const minimum = Date.parse(String(stats?.minValues?.event_time ?? ''));
    const maximum = Date.parse(String(stats?.maxValues?.event_time ?? ''));
    firstMs = firstMs === undefined || Number.isNaN(minimum) ? undefined : Math.min(firstMs, minimum);
    lastMs = lastMs === undefined || Number.isNaN(maximum) ? undefined : Math.max(lastMs, maximum);
  }
  const finite = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value : undefined);
  return { rows, firstMs: finite(firstMs), lastMs: finite(lastMs) };
}

/** Offers every row of a scanned batch to the sampler; a row becomes a LogEvent only when sampled. */
function offerBatch(batch: Table, sampler: SliceSampler): void {
  const column = (name: string): Vector | null => batch.getChild(name);
  const times = timestampMicros(column('event_time')!);
  const columns = Object.fromEntries(COLUMNS.slice(1).map((name) => [name, column(name)]));
  let row = 0;
  const value = (name: string): unknown => columns[name]?.get(row) ?? null;
  let timestampMs = 0;
  let clientIp = '';
  let status = 0;
  let path = '/';
  const event = (): LogEvent => ({
    timestampMs,
    clientIp,
    method: String(value('method') ?? 'GET'),
    path,
    query: (value('query') as string | null) ?? null,
    pathTemplate: String(value('path_template') ?? '/'),
    status,
    responseTimeMs: value('response_time_ms') === null ? null : Number(value('response_time_ms')),
    responseBytes: Number(value('response_bytes') ?? 0),
    referrer: (value('referrer') as string | null) ?? null,
    userAgent: (value('user_agent') as string | null) ?? null,
    label: (value('label') as string | null) ?? null,
  });
  for (; row < batch.numRows; row += 1) {
    const micros = times[row];
    if (micros === null || micros === undefined) continue;
    timestampMs = Number(micros / 1000n);
    clientIp = String(value('client_ip') ?? '');
    status = Number(value('status') ?? 0);
    path = String(value('path') ?? '/');
    sampler.offer(clientIp, timestampMs, status, path, event);
  }
}
