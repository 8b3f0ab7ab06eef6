// How training rows are chosen from a lakehouse (pure): short time slices spread over the lookback
// window; in each, every request goes through a client window in event-time order, as in the
// streamer, and a uniform sample of rows keeps the client statistics the streamer computed for them.
// Rows are put in time order here rather than trusted to come in it: compaction (ours or another
// writer's) may store a slice's rows in any order.
//
// Why not a uniform sample of the whole window: client features (request rate, error ratio,
// distinct paths) come from each client's recent requests. Computed over a sparse sample, every
// client looks idle, and the model flags ordinary busy clients once it scores the live stream.
import { createRandom, type Random } from '../common/random.js';
import type { LogEvent } from '../logs/record.js';
import { ClientWindow, type ClientStats, type WindowRequest } from './clientWindow.js';

/** Rows are sampled from slices this long... */
export const SLICE_MS = 60_000;
/**
 * ...after the requests of the minutes before have warmed the client window up: its sliding
 * window (a minute) and most of its recent counts (a third of their 10-minute time constant, which
 * leaves ratios as they are and only under-counts the evidence of the slowest clients).
 */
export const WARM_UP_MS = 3 * 60_000;
/** At least this many slices, so the time of day and a single incident do not dominate the sample. */
const MIN_SLICES = 12;

export interface TimeSlice {
  /** Requests from here on are observed... */
  warmUpFromMs: number;
  /** ...and rows from here on (up to endMs, exclusive) sampled. */
  startMs: number;
  endMs: number;
}

export interface SlicePlanInput {
  sinceMs: number;
  nowMs: number;
  /** Rows the window is thought to hold (from file statistics); sets how many slices reach `samples`. */
  estimatedRows: number;
  samples: number;
  seed: number;
}

/**
 * Slices in time order: the window is cut into equal strata and each gets one slice at a seeded
 * random offset. Sparse windows get more slices, up to covering the whole window.
 */
export function planSlices(input: SlicePlanInput): TimeSlice[] {
  const windowMs = Math.max(0, input.nowMs - input.sinceMs);
  if (windowMs === 0) return [];
  const maxSlices = Math.max(1, Math.floor(windowMs / SLICE_MS));
  const rowsPerSlice = (Math.max(0, input.estimatedRows) * Math.min(SLICE_MS, windowMs)) / windowMs;
  const wanted = rowsPerSlice > 0 ? Math.ceil(input.samples / rowsPerSlice) : maxSlices;
  const count = Math.min(maxSlices, Math.max(MIN_SLICES, wanted));
  const stratumMs = windowMs / count;
  const random = createRandom(input.seed ^ 0x51ce5);
  const slices: TimeSlice[] = [];
  for (let stratum = 0; stratum < count; stratum += 1) {
    const stratumStart = input.sinceMs + stratum * stratumMs;
    const slice = sliceAt(Math.floor(stratumStart + random.next() * Math.max(0, stratumMs - SLICE_MS)));
    // A window shorter than a slice is one slice, the whole window.
    slices.push({ ...slice, endMs: Math.min(input.nowMs + 1, slice.endMs) });
  }
  return slices;
}

/** The slice whose sampled rows start at `startMs`, its warm-up the minute before. */
export function sliceAt(startMs: number): TimeSlice {
  return { warmUpFromMs: startMs - WARM_UP_MS, startMs, endMs: startMs + SLICE_MS };
}

/** A training row and the statistics its client had when the streamer would have scored it. */
export interface SampledRow {
  event: LogEvent;
  client: ClientStats;
}

/**
 * One slice's requests, observed in order: each goes through the slice's client window, and a
 * seeded reservoir keeps a uniform sample of `budget` rows of the slice proper, with their client
 * statistics. Memory stays at the reservoir and the window, however many rows the slice has.
 */
export class SliceSampler {
  private readonly window = new ClientWindow();
  private readonly reservoir: SampledRow[] = [];
  private readonly random: Random;
  private candidates = 0;

  constructor(
    private readonly slice: TimeSlice,
    private readonly budget: number,
    seed: number,
  ) {
    this.random = createRandom((seed ^ slice.startMs) >>> 0);
  }

  /**
   * Observes one request (in time order: see timeOrder); `event` builds the row only when the
   * sample takes it. The request object is not kept.
   */
  offer(request: WindowRequest, event: () => LogEvent): void {
    const timestampMs = request.timestampMs;
    if (timestampMs < this.slice.warmUpFromMs || timestampMs >= this.slice.endMs) return;
    const stats = this.window.observe(request);
    if (timestampMs < this.slice.startMs) return;
    this.candidates += 1;
    if (this.reservoir.length < this.budget) this.reservoir.push({ event: event(), client: stats });
    else {
      const slot = Math.floor(this.random.next() * this.candidates);
      if (slot < this.budget) this.reservoir[slot] = { event: event(), client: stats };
    }
  }

  /** Rows of the slice proper seen so far. */
  get rowsInSlice(): number {
    return this.candidates;
  }

  /** The sample in time order. */
  rows(): SampledRow[] {
    return [...this.reservoir].sort((a, b) => a.event.timestampMs - b.event.timestampMs);
  }
}

/**
 * The order in which to observe rows: by event time, ties by the keys given (the Kafka partition
 * and offset of each row, which the streamer saw in that order), then by position. The same rows
 * give the same order however they were stored.
 */
export function timeOrder(times: Float64Array, ...tiebreaks: Float64Array[]): Uint32Array {
  const order = new Uint32Array(times.length);
  for (let index = 0; index < order.length; index += 1) order[index] = index;
  return order.sort((a, b) => {
    const byTime = times[a]! - times[b]!;
    if (byTime !== 0) return byTime;
    for (const keys of tiebreaks) {
      const byKey = keys[a]! - keys[b]!;
      if (byKey !== 0) return byKey;
    }
    return a - b;
  });
}
