// Training rows from the lakehouse: short time slices of the Delta `logs` table spread over a
// lookback window, each row with the client statistics the streamer computed for it (see
// ml/trainingSlices.ts). File skipping on event_time keeps each scan to the slice's files. Each
// slice's rows are sorted by event time (then Kafka partition and offset) before they go through
// the client window: files do not keep rows in time order once OPTIMIZE (ours or another
// writer's) has compacted them.
import type { Table, Vector } from 'apache-arrow';
import { timestampMicros } from '../clients/delta/arrowColumns.js';
import { DeltaTable, parseStats, tablePath, type Snapshot, type StorageSettings } from '../clients/delta/index.js';
import type { LogEvent } from '../logs/record.js';
import type { ClientStats } from '../ml/clientWindow.js';
import { TrainingDataError } from '../ml/errors.js';
import type { WindowRequest } from '../ml/clientWindow.js';
import { planSlices, SliceSampler, SLICE_MS, timeOrder, type TimeSlice } from '../ml/trainingSlices.js';

export interface DeltaSampleOptions {
  /** Folder or s3://bucket/prefix holding the lakehouse tables (config delta.root). */
  root: string;
  /** How to reach an object store root (config s3). */
  storage?: StorageSettings;
  lookbackHours: number;
  /** Rows to keep at most (config ml.training_samples). */
  samples: number;
  seed: number;
  nowMs?: number;
  /** Rows from here on are left out (the held-out slice of the promotion gate); default nowMs. */
  untilMs?: number;
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
  const window = await openWindow(options.root, options.lookbackHours, options.nowMs ?? Date.now(), options.storage);
  return sampleWindow(window, options, options.untilMs ?? window.nowMs);
}

/** The logs table's snapshot and what its file statistics say about the rows of a lookback window. */
interface LakehouseWindow {
  tablePath: string;
  snapshot: Snapshot;
  nowMs: number;
  sinceMs: number;
  /** Rows the files of the window hold (from their statistics). */
  rows: number;
  firstMs?: number;
  lastMs?: number;
}

async function openWindow(root: string, lookbackHours: number, nowMs: number, storage?: StorageSettings): Promise<LakehouseWindow> {
  const logsPath = tablePath(root, 'logs');
  const table = await DeltaTable.open(logsPath, storage);
  const snapshot = await table.snapshot();
  const sinceMs = nowMs - lookbackHours * 3_600_000;
  return { tablePath: logsPath, snapshot, nowMs, sinceMs, ...dataInWindow(snapshot, new Date(sinceMs).toISOString()) };
}

async function sampleWindow(
  window: LakehouseWindow,
  options: Pick<DeltaSampleOptions, 'samples' | 'seed'>,
  untilMs: number,
): Promise<DeltaSample> {
  const { snapshot, tablePath, sinceMs } = window;
  const since = new Date(sinceMs).toISOString();
  // Slices go where the data is: a table younger than the lookback window starts later, one whose
  // streamer stopped ends earlier.
  const slices = planSlices({
    sinceMs: Math.max(sinceMs, window.firstMs ?? sinceMs),
    nowMs: Math.min(untilMs, window.lastMs ?? untilMs),
    estimatedRows: window.rows,
    samples: options.samples,
    seed: options.seed,
  }).map((slice) => ({ ...slice, endMs: Math.min(slice.endMs, untilMs) }));
  const events: LogEvent[] = [];
  const clientStats: ClientStats[] = [];
  let scannedRows = 0;
  for (const [index, slice] of slices.entries()) {
    // What a slice leaves unused (a gap in the data) goes to the slices after it.
    const budget = Math.ceil((options.samples - events.length) / (slices.length - index));
    const sampler = new SliceSampler(slice, budget, options.seed);
    const batches = await scanRange(snapshot, slice.warmUpFromMs, slice.endMs);
    scannedRows += batches.reduce((sum, batch) => sum + batch.numRows, 0);
    visitInTimeOrder(batches, (request, event) => sampler.offer(request, event));
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

async function scanRange(snapshot: Snapshot, fromMs: number, toMs: number): Promise<Table[]> {
  const predicate = `event_time >= ${new Date(fromMs).toISOString()} AND event_time < ${new Date(toMs).toISOString()}`;
  const batches: Table[] = [];
  for await (const { table: batch } of snapshot.scanBatches({ predicate, columns: COLUMNS })) batches.push(batch);
  return batches;
}

export interface SiteTrafficOptions extends DeltaSampleOptions {
  /** Share of the window's data span held out, the most recent (config ml.gate_holdout_fraction). */
  heldOutFraction: number;
  /** Held-out rows at most (config ml.gate_holdout_rows): the span shrinks to hold about this many. */
  heldOutRows: number;
}

export interface SiteTraffic {
  /** Training rows sampled from before the held-out slice. */
  sample: DeltaSample;
  /** The held-out slice, all of its rows (up to heldOutRows, the most recent), in time order. */
  heldOut: LogEvent[];
  /** Where the held-out slice starts. */
  cutMs: number;
}

/** Minimum held-out rows for the own-traffic gate to judge anything. */
export const MIN_HELD_OUT_ROWS = 200;

/**
 * The site's own traffic for a training run with the own-traffic gate: the most recent part of the
 * window held out whole (never fitted on), and the training sample taken from before it.
 */
export async function siteTrafficFromDelta(options: SiteTrafficOptions): Promise<SiteTraffic> {
  const window = await openWindow(options.root, options.lookbackHours, options.nowMs ?? Date.now(), options.storage);
  const firstMs = Math.max(window.sinceMs, window.firstMs ?? window.sinceMs);
  const lastMs = Math.min(window.nowMs, window.lastMs ?? window.nowMs);
  const spanMs = Math.max(0, lastMs - firstMs);
  // Enough time for about heldOutRows rows at the window's average rate, within the fraction.
  const rowsPerMs = window.rows / Math.max(1, spanMs);
  const heldOutMs = Math.min(options.heldOutFraction * spanMs, rowsPerMs > 0 ? (1.2 * options.heldOutRows) / rowsPerMs : spanMs);
  const cutMs = Math.floor(lastMs - heldOutMs);
  const heldOut: LogEvent[] = [];
  visitInTimeOrder(await scanRange(window.snapshot, cutMs, lastMs + 1), (_, event) => heldOut.push(event()));
  if (heldOut.length < MIN_HELD_OUT_ROWS) {
    throw new TrainingDataError(
      `the Delta logs table at ${window.tablePath} holds ${heldOut.length} rows in its most recent ${(heldOutMs / 60_000).toFixed(0)} minutes: too few to judge a model on the site's own traffic (at least ${MIN_HELD_OUT_ROWS})`,
      'let the pipeline store more of the site traffic, raise ml.lookback_hours or ml.gate_holdout_fraction',
    );
  }
  const sample = await sampleWindow(window, options, cutMs);
  return { sample, heldOut: heldOut.slice(-options.heldOutRows), cutMs };
}

export interface LakehouseReadiness {
  /** Rows in the logs table over the lookback window (from file statistics). */
  rows: number;
  /** Minutes between the window's first and last event. */
  minutes: number;
}

/**
 * How much of the site's own traffic the logs table holds over the lookback window, from file
 * statistics only (cheap): what a pipeline in its learning state compares with its threshold.
 */
export async function lakehouseReadiness(
  root: string,
  lookbackHours: number,
  nowMs = Date.now(),
  storage?: StorageSettings,
): Promise<LakehouseReadiness> {
  const window = await openWindow(root, lookbackHours, nowMs, storage);
  const firstMs = window.firstMs ?? window.nowMs;
  const lastMs = window.lastMs ?? firstMs;
  return { rows: window.rows, minutes: Math.max(0, lastMs - Math.max(firstMs, window.sinceMs)) / 60_000 };
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

/**
 * Visits the rows of scanned batches in event-time order (ties by Kafka partition and offset); a
 * row becomes a LogEvent only when `event` is called. The request object is reused.
 */
function visitInTimeOrder(batches: readonly Table[], visit: (request: WindowRequest, event: () => LogEvent) => void): void {
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
    visit(request, event);
  }
}
