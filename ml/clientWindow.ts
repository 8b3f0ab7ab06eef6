// Per-client behaviour over a sliding time window (request rate, error ratio, distinct paths),
// held by a streamer across micro-batches. Memory is bounded: a fixed number of time buckets per
// client, a 64-bit sketch for distinct paths, and eviction of idle, then least recently seen, clients.

export interface ClientWindowOptions {
  /** Window length (default 60 s). */
  windowMs?: number;
  /** Buckets the window is split into (default 6). */
  buckets?: number;
  /** Clients tracked at most; the least recently seen are forgotten first (default 100,000). */
  maxClients?: number;
  /** Shortest span a rate is measured over, so one request is not an infinite rate (default 5 s). */
  minRateSpanMs?: number;
}

export interface ClientStats {
  /** Requests in the window, including the current one. */
  requests: number;
  requestsPerSecond: number;
  /** Share of the window's requests answered with status >= 400. */
  errorRatio: number;
  /** Estimated distinct request paths in the window. */
  distinctPaths: number;
}

/**
 * One client's window in a single Float64Array (one allocation per client):
 * [firstSeenMs, lastSeenMs, then per bucket: bucketId, requests, errors, pathBitsLow, pathBitsHigh].
 */
type ClientState = Float64Array;
const FIRST_SEEN = 0;
const LAST_SEEN = 1;
const HEADER = 2;
const SLOT_WIDTH = 5;
const BUCKET_ID = 0;
const COUNT = 1;
const ERRORS = 2;
const BITS_LOW = 3;
const BITS_HIGH = 4;

const SKETCH_BITS = 64;

export class ClientWindow {
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly maxClients: number;
  private readonly bucketMs: number;
  private readonly minRateSpanMs: number;
  private readonly clients = new Map<string, ClientState>();

  constructor(options: ClientWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketCount = options.buckets ?? 6;
    this.maxClients = options.maxClients ?? 100_000;
    this.minRateSpanMs = options.minRateSpanMs ?? 5_000;
    this.bucketMs = this.windowMs / this.bucketCount;
    if (!(this.bucketMs > 0) || this.maxClients < 1) throw new RangeError('ClientWindow needs a positive window, buckets and maxClients');
  }

  get size(): number {
    return this.clients.size;
  }

  /** Records one request and returns the client's statistics including it. */
  observe(clientIp: string, timestampMs: number, status: number, path: string): ClientStats {
    const bucketId = Math.floor(timestampMs / this.bucketMs);
    let state = this.clients.get(clientIp);
    if (!state) {
      if (this.clients.size >= this.maxClients) this.evict(timestampMs);
      state = this.newState();
      this.clients.set(clientIp, state);
    }
    if (timestampMs > state[LAST_SEEN]!) state[LAST_SEEN] = timestampMs;

    if (!this.hasLiveBuckets(state, bucketId)) state[FIRST_SEEN] = timestampMs;
    const base = HEADER + (bucketId % this.bucketCount) * SLOT_WIDTH;
    if (state[base + BUCKET_ID] !== bucketId) {
      if (state[base + BUCKET_ID]! > bucketId) return this.statsAt(state, timestampMs); // older than the window keeps: not counted
      state[base + BUCKET_ID] = bucketId;
      state[base + COUNT] = 0;
      state[base + ERRORS] = 0;
      state[base + BITS_LOW] = 0;
      state[base + BITS_HIGH] = 0;
    }
    state[base + COUNT]! += 1;
    if (status >= 400) state[base + ERRORS]! += 1;
    const bit = hashPath(path) % SKETCH_BITS;
    const word = base + (bit < 32 ? BITS_LOW : BITS_HIGH);
    state[word] = (state[word]! | (1 << (bit & 31))) >>> 0;
    if (timestampMs < state[FIRST_SEEN]!) state[FIRST_SEEN] = timestampMs;
    return this.statsAt(state, timestampMs);
  }

  /** Statistics of a client at a time without recording a request. */
  stats(clientIp: string, nowMs: number): ClientStats {
    const state = this.clients.get(clientIp);
    return state ? this.statsAt(state, nowMs) : { requests: 0, requestsPerSecond: 0, errorRatio: 0, distinctPaths: 0 };
  }

  private statsAt(state: ClientState, nowMs: number): ClientStats {
    const nowBucket = Math.floor(nowMs / this.bucketMs);
    let requests = 0;
    let errors = 0;
    let low = 0;
    let high = 0;
    for (let base = HEADER; base < state.length; base += SLOT_WIDTH) {
      const id = state[base + BUCKET_ID]!;
      if (id <= nowBucket - this.bucketCount || id > nowBucket) continue;
      requests += state[base + COUNT]!;
      errors += state[base + ERRORS]!;
      low |= state[base + BITS_LOW]!;
      high |= state[base + BITS_HIGH]!;
    }
    const windowStartMs = (nowBucket - this.bucketCount + 1) * this.bucketMs;
    const spanMs = Math.max(this.minRateSpanMs, nowMs - Math.max(state[FIRST_SEEN]!, windowStartMs));
    return {
      requests,
      requestsPerSecond: (requests * 1000) / spanMs,
      errorRatio: requests === 0 ? 0 : errors / requests,
      distinctPaths: Math.min(requests, linearCount(popcount(low) + popcount(high))),
    };
  }

  private hasLiveBuckets(state: ClientState, bucketId: number): boolean {
    for (let base = HEADER; base < state.length; base += SLOT_WIDTH) {
      if (state[base + BUCKET_ID]! > bucketId - this.bucketCount && state[base + COUNT]! > 0) return true;
    }
    return false;
  }

  private newState(): ClientState {
    const state = new Float64Array(HEADER + this.bucketCount * SLOT_WIDTH);
    state[FIRST_SEEN] = Number.POSITIVE_INFINITY;
    state[LAST_SEEN] = Number.NEGATIVE_INFINITY;
    for (let base = HEADER; base < state.length; base += SLOT_WIDTH) state[base + BUCKET_ID] = Number.NEGATIVE_INFINITY;
    return state;
  }

  /**
   * Makes room: forgets clients not seen within the window, then (if still full) the least
   * recently seen tenth. A sweep is O(clients) but runs once per maxClients / 10 new clients.
   */
  private evict(nowMs: number): void {
    const horizonMs = nowMs - this.windowMs;
    const target = Math.floor(this.maxClients * 0.9);
    for (const [ip, state] of this.clients) if (state[LAST_SEEN]! < horizonMs) this.clients.delete(ip);
    if (this.clients.size <= target) return;
    const byAge = [...this.clients].sort((a, b) => a[1][LAST_SEEN]! - b[1][LAST_SEEN]!);
    for (let index = 0; this.clients.size > target; index += 1) this.clients.delete(byAge[index]![0]);
  }
}

/** Distinct-count estimate from the number of set bits of a 64-bit linear-counting sketch. */
function linearCount(setBits: number): number {
  if (setBits >= SKETCH_BITS) return SKETCH_BITS * Math.log(SKETCH_BITS); // saturated: ~266
  return -SKETCH_BITS * Math.log(1 - setBits / SKETCH_BITS);
}

function popcount(word: number): number {
  let value = word - ((word >>> 1) & 0x55555555);
  value = (value & 0x33333333) + ((value >>> 2) & 0x33333333);
  return (((value + (value >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** FNV-1a: fast and well spread over short strings. */
function hashPath(path: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < path.length; index += 1) {
    hash ^= path.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
