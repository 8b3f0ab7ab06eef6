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
 * Every client's window lives in one shared Float64Array (an arena of fixed-width records, so a
 * new client allocates nothing): [firstSeenMs, lastSeenMs, then the totals of the window's other
 * buckets as of cachedBucket (cachedBucket, requests, errors, pathBitsLow, pathBitsHigh), then
 * per bucket: bucketId, requests, errors, pathBitsLow, pathBitsHigh]. The cached totals make the
 * common case, another request in the client's current bucket, O(1): only a new bucket sums the
 * others again.
 */
const FIRST_SEEN = 0;
const LAST_SEEN = 1;
const CACHED_BUCKET = 2;
const OTHER_REQUESTS = 3;
const OTHER_ERRORS = 4;
const OTHER_BITS_LOW = 5;
const OTHER_BITS_HIGH = 6;
const HEADER = 7;
const SLOT_WIDTH = 5;
const BUCKET_ID = 0;
const COUNT = 1;
const ERRORS = 2;
const BITS_LOW = 3;
const BITS_HIGH = 4;

const SKETCH_BITS = 64;
const INITIAL_CAPACITY = 1024;

export class ClientWindow {
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly maxClients: number;
  private readonly bucketMs: number;
  private readonly minRateSpanMs: number;
  private readonly recordWidth: number;
  /** Client IP → offset of its record in the arena. */
  private readonly clients = new Map<string, number>();
  private arena: Float64Array;
  private readonly freeRecords: number[] = [];
  private usedRecords = 0;
  /** sumBuckets' result, reused. */
  private readonly totals = new Float64Array(4);

  constructor(options: ClientWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketCount = options.buckets ?? 6;
    this.maxClients = options.maxClients ?? 100_000;
    this.minRateSpanMs = options.minRateSpanMs ?? 5_000;
    this.bucketMs = this.windowMs / this.bucketCount;
    if (!(this.bucketMs > 0) || this.maxClients < 1) throw new RangeError('ClientWindow needs a positive window, buckets and maxClients');
    this.recordWidth = HEADER + this.bucketCount * SLOT_WIDTH;
    this.arena = new Float64Array(this.recordWidth * Math.min(INITIAL_CAPACITY, this.maxClients));
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Records one request and returns the client's statistics including it, written into `out`
   * when given (the scorer's hot loop reuses one object instead of allocating per row).
   */
  observe(clientIp: string, timestampMs: number, status: number, path: string, out: ClientStats = emptyStats()): ClientStats {
    const bucketId = Math.floor(timestampMs / this.bucketMs);
    const slot = (bucketId % this.bucketCount) * SLOT_WIDTH;
    let record = this.clients.get(clientIp);
    if (record === undefined) {
      record = this.newRecord(timestampMs, bucketId, slot);
      this.clients.set(clientIp, record);
    }
    const state = this.arena;
    const base = record + HEADER + slot;
    if (timestampMs > state[record + LAST_SEEN]!) state[record + LAST_SEEN] = timestampMs;

    if (state[record + CACHED_BUCKET] !== bucketId) {
      if (!this.hasLiveBuckets(record, bucketId)) state[record + FIRST_SEEN] = timestampMs;
      if (state[base + BUCKET_ID] !== bucketId) {
        if (state[base + BUCKET_ID]! > bucketId) return this.statsAt(record, timestampMs, out); // older than the window keeps: not counted
        state[base + BUCKET_ID] = bucketId;
        state[base + COUNT] = 0;
        state[base + ERRORS] = 0;
        state[base + BITS_LOW] = 0;
        state[base + BITS_HIGH] = 0;
      }
      this.cacheOtherBuckets(record, bucketId, base);
    }
    state[base + COUNT]! += 1;
    if (status >= 400) state[base + ERRORS]! += 1;
    const bit = hashPath(path) % SKETCH_BITS;
    const word = base + (bit < 32 ? BITS_LOW : BITS_HIGH);
    state[word] = (state[word]! | (1 << (bit & 31))) >>> 0;
    if (timestampMs < state[record + FIRST_SEEN]!) state[record + FIRST_SEEN] = timestampMs;

    const requests = state[record + OTHER_REQUESTS]! + state[base + COUNT]!;
    const errors = state[record + OTHER_ERRORS]! + state[base + ERRORS]!;
    const setBits = popcount(state[record + OTHER_BITS_LOW]! | state[base + BITS_LOW]!) + popcount(state[record + OTHER_BITS_HIGH]! | state[base + BITS_HIGH]!);
    return this.fill(out, record, timestampMs, bucketId, requests, errors, setBits);
  }

  /** Statistics of a client at a time without recording a request. */
  stats(clientIp: string, nowMs: number): ClientStats {
    const record = this.clients.get(clientIp);
    return record === undefined ? emptyStats() : this.statsAt(record, nowMs, emptyStats());
  }

  private statsAt(record: number, nowMs: number, out: ClientStats): ClientStats {
    const nowBucket = Math.floor(nowMs / this.bucketMs);
    const [requests, errors, low, high] = this.sumBuckets(record, nowBucket, -1);
    return this.fill(out, record, nowMs, nowBucket, requests!, errors!, popcount(low!) + popcount(high!));
  }

  /** Caches the totals of the buckets in bucketId's window other than its own slot (at `ownBase`). */
  private cacheOtherBuckets(record: number, bucketId: number, ownBase: number): void {
    const [requests, errors, low, high] = this.sumBuckets(record, bucketId, ownBase);
    const state = this.arena;
    state[record + CACHED_BUCKET] = bucketId;
    state[record + OTHER_REQUESTS] = requests!;
    state[record + OTHER_ERRORS] = errors!;
    state[record + OTHER_BITS_LOW] = low!;
    state[record + OTHER_BITS_HIGH] = high!;
  }

  /** Requests, errors and the path sketch's two words over the buckets in bucketId's window, but the slot at skipBase. */
  private sumBuckets(record: number, bucketId: number, skipBase: number): Float64Array {
    const state = this.arena;
    let requests = 0;
    let errors = 0;
    let low = 0;
    let high = 0;
    for (let base = record + HEADER; base < record + this.recordWidth; base += SLOT_WIDTH) {
      const id = state[base + BUCKET_ID]!;
      if (base === skipBase || id <= bucketId - this.bucketCount || id > bucketId) continue;
      requests += state[base + COUNT]!;
      errors += state[base + ERRORS]!;
      low |= state[base + BITS_LOW]!;
      high |= state[base + BITS_HIGH]!;
    }
    const totals = this.totals;
    totals[0] = requests;
    totals[1] = errors;
    totals[2] = low >>> 0;
    totals[3] = high >>> 0;
    return totals;
  }

  private fill(out: ClientStats, record: number, nowMs: number, nowBucket: number, requests: number, errors: number, setBits: number): ClientStats {
    const windowStartMs = (nowBucket - this.bucketCount + 1) * this.bucketMs;
    const spanMs = Math.max(this.minRateSpanMs, nowMs - Math.max(this.arena[record + FIRST_SEEN]!, windowStartMs));
    out.requests = requests;
    out.requestsPerSecond = (requests * 1000) / spanMs;
    out.errorRatio = requests === 0 ? 0 : errors / requests;
    out.distinctPaths = Math.min(requests, LINEAR_COUNT[setBits]!);
    return out;
  }

  private hasLiveBuckets(record: number, bucketId: number): boolean {
    const state = this.arena;
    for (let base = record + HEADER; base < record + this.recordWidth; base += SLOT_WIDTH) {
      if (state[base + BUCKET_ID]! > bucketId - this.bucketCount && state[base + COUNT]! > 0) return true;
    }
    return false;
  }

  /**
   * A zeroed record for a client first seen now, its current bucket open and the other buckets'
   * totals (none) cached, so the caller takes the O(1) path.
   */
  private newRecord(timestampMs: number, bucketId: number, slot: number): number {
    if (this.clients.size >= this.maxClients) this.evict(timestampMs);
    let record = this.freeRecords.pop();
    if (record === undefined) {
      record = this.usedRecords * this.recordWidth;
      this.usedRecords += 1;
      if (record + this.recordWidth > this.arena.length) {
        const grown = new Float64Array(Math.min(this.arena.length * 2, this.maxClients * this.recordWidth));
        grown.set(this.arena);
        this.arena = grown;
      }
    }
    const state = this.arena;
    state.fill(0, record, record + this.recordWidth);
    state[record + FIRST_SEEN] = timestampMs;
    state[record + LAST_SEEN] = timestampMs;
    for (let base = record + HEADER; base < record + this.recordWidth; base += SLOT_WIDTH) state[base + BUCKET_ID] = Number.NEGATIVE_INFINITY;
    state[record + HEADER + slot + BUCKET_ID] = bucketId;
    state[record + CACHED_BUCKET] = bucketId;
    return record;
  }

  /**
   * Makes room: forgets clients not seen within the window, then (if still full) the least
   * recently seen tenth. A sweep is O(clients) but runs once per maxClients / 10 new clients.
   */
  private evict(nowMs: number): void {
    const horizonMs = nowMs - this.windowMs;
    const target = Math.floor(this.maxClients * 0.9);
    const forget = (ip: string, record: number) => {
      this.clients.delete(ip);
      this.freeRecords.push(record);
    };
    for (const [ip, record] of this.clients) if (this.arena[record + LAST_SEEN]! < horizonMs) forget(ip, record);
    if (this.clients.size <= target) return;
    const byAge = [...this.clients].sort((a, b) => this.arena[a[1] + LAST_SEEN]! - this.arena[b[1] + LAST_SEEN]!);
    for (let index = 0; this.clients.size > target; index += 1) forget(...byAge[index]!);
  }
}

const emptyStats = (): ClientStats => ({ requests: 0, requestsPerSecond: 0, errorRatio: 0, distinctPaths: 0 });

/** Distinct-count estimate per number of set bits of a 64-bit linear-counting sketch (saturated: ~266). */
const LINEAR_COUNT = Float64Array.from({ length: SKETCH_BITS + 1 }, (_, setBits) =>
  setBits >= SKETCH_BITS ? SKETCH_BITS * Math.log(SKETCH_BITS) : -SKETCH_BITS * Math.log(1 - setBits / SKETCH_BITS),
);

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
