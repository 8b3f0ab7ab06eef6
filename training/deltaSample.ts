// Training rows from the lakehouse: short time slices of the Delta `logs` table spread over a
// lookback window, each row with the client statistics the streamer computed for it (see
// ml/trainingSlices.ts). File skipping on event_time keeps each scan to the slice's files. Each
// slice's rows are sorted by event time (then Kafka partition and offset) before they go through
// the client window: files do not keep rows in time order once OPTIMIZE (ours or another
// writer's) has compacted them.
import { join } from 'node:path';
import type { Table, Vector } from 'apache-arrow';
import { timestampMicros } from '../clients/delta/arrowColumns.js';
import { DeltaTable, parseStats, type Snapshot } from '../clients/delta/index.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from '../ml/clientWindow.js';
import { TrainingDataError } from '../ml/errors.js';
import type { WindowRequest } from '../ml/clientWindow.js';
import { planSlices, SliceSampler, SLICE_MS, timeOrder, type TimeSlice } from '../ml/trainingSlices.js';

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
  'kafka_partition',
  'kafka_offset',
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
    const batches: Table[] = [];
    for await (const { table: batch } of snapshot.scanBatches({ predicate, columns: COLUMNS })) {
      scannedRows += batch.numRows;
      batches.push(batch);
    }
    offerInTimeOrder(batches, sampler);
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

/** Offers the slice's rows to the sampler in event-time order; a row becomes a LogEvent only when sampled. */
function offerInTimeOrder(batches: readonly Table[], sampler: SliceSampler): void {
  const total = batches.reduce((sum, batch) => sum + batch.numRows, 0);
  const times = new Float64Array(total);
  const partitions = new Float64Array(total);
  const offsets = new Float64Array(total);
  const origins = new Uint32Array(total);
  const columns = batches.map(
    (batch) => Object.fromEntries(COLUMNS.map((name) => [name, batch.getChild(name)])) as Record<string, Vector | null>,
  );
  let at = 0;
  batches.forEach((batch, batchIndex) => {
    const micros = timestampMicros(batch.getChild('event_time')!);
    const partition = columns[batchIndex]!.kafka_partition;
    const offset = columns[batchIndex]!.kafka_offset;
    for (let row = 0; row < batch.numRows; row += 1, at += 1) {
      const value = micros[row];
      times[at] = value === null || value === undefined ? Number.NaN : Number(value / 1000n);
      partitions[at] = Number(partition?.get(row) ?? -1);
      offsets[at] = Number(offset?.get(row) ?? -1);
      origins[at] = row;
    }
  });
  const batchOf = new Uint32Array(total);
  let first = 0;
  batches.forEach((batch, batchIndex) => {
    batchOf.fill(batchIndex, first, first + batch.numRows);
    first += batch.numRows;
  });
  let vectors = columns[0]!;
  let row = 0;
  const value = (name: string): unknown => vectors[name]?.get(row) ?? null;
  const request: WindowRequest = { clientIp: '', timestampMs: 0, status: 0, method: 'GET', path: '/', pathTemplate: '/' };
  const event = (): LogEvent => ({
    timestampMs: request.timestampMs,
    clientIp: request.clientIp,
    method: request.method,
    path: request.path,
    query: (value('query') as string | null) ?? null,
    pathTemplate: request.pathTemplate,
    status: request.status,
    responseTimeMs: value('response_time_ms') === null ? null : Number(value('response_time_ms')),
    responseBytes: Number(value('response_bytes') ?? 0),
    referrer: (value('referrer') as string | null) ?? null,
    userAgent: (value('user_agent') as string | null) ?? null,
    label: (value('label') as string | null) ?? null,
  });
  for (const position of timeOrder(times, partitions, offsets)) {
    if (Number.isNaN(times[position]!)) continue;
    vectors = columns[batchOf[position]!]!;
    row = origins[position]!;
    request.timestampMs = times[position]!;
    request.clientIp = String(value('client_ip') ?? '');
    request.status = Number(value('status') ?? 0);
    request.method = String(value('method') ?? 'GET');
    request.path = String(value('path') ?? '/');
    request.pathTemplate = String(value('path_template') ?? '/');
    sampler.offer(request, event);
  }
}
