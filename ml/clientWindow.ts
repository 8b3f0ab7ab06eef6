// Per-client behaviour over a sliding time window (request rate, error ratio, distinct paths),
// held by a streamer across micro-batches. Memory is bounded: a fixed number of time buckets per
// client, a 64-bit sketch for distinct paths, a small table for clients seen only once, and
// eviction of idle, then least recently seen, clients.

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
 * Each client has a hot record and a ring of past buckets, both in shared typed arrays (arenas of
 * fixed-width records, so a new client allocates nothing and a lookup touches little memory).
 *
 * The hot record (HOT_BYTES, a cache line's worth) holds what the common case, another request in
 * the client's latest bucket, reads and writes: first and last seen time, the latest bucket's id
 * and its requests, errors and path sketch, and the totals of the window's older buckets. Only a
 * request in a new bucket reads the ring: it moves the finished bucket there and sums the ring again.
 *
 * The ring holds the buckets before the latest one, bucket b at slot b mod bucketCount. Bucket ids
 * are implicit: moving on to a later bucket clears the slots of the buckets skipped, so every slot
 * but the latest bucket's holds a bucket inside the window.
 */
const HOT_BYTES = 64;
const HOT_FLOATS = HOT_BYTES / 8;
const HOT_INTS = HOT_BYTES / 4;
// Float64 fields (index within the record's HOT_FLOATS).
const FIRST_SEEN = 0;
const LAST_SEEN = 1;
const LATEST_BUCKET = 2;
// Int32 fields (index within the record's HOT_INTS), after the three float64s.
const LATEST_REQUESTS = 6;
const LATEST_ERRORS = 7;
const LATEST_BITS_LOW = 8;
const LATEST_BITS_HIGH = 9;
const OLDER_REQUESTS = 10;
const OLDER_ERRORS = 11;
const OLDER_BITS_LOW = 12;
const OLDER_BITS_HIGH = 13;
// Int32 fields of a ring slot.
const SLOT_WIDTH = 4;
const REQUESTS = 0;
const ERRORS = 1;
const BITS_LOW = 2;
const BITS_HIGH = 3;

const SKETCH_BITS = 64;
const INITIAL_CAPACITY = 1024;
/** Last-seen times an eviction sweep samples to find its cutoff. */
const EVICTION_SAMPLE = 1024;

export class ClientWindow {
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly maxClients: number;
  private readonly bucketMs: number;
  private readonly minRateSpanMs: number;
  private readonly ringWidth: number;
  /** Client IP → record number. */
  private readonly clients = new Map<string, number>();
  private hotFloats: Float64Array;
  private hotInts: Int32Array;
  private ring: Int32Array;
  private readonly freeRecords: number[] = [];
  private usedRecords = 0;
  /**
   * Clients seen once get no record yet, only a slot here (by address hash): most
   * addresses of a busy site make a single request within a window, and a record, a map entry
   * and a retained address string for each cost more than everything else the window does. A
   * second request promotes the client to a record that holds both, exactly as if it had had one.
   */
  private probation = new Probation(PROBATION_INITIAL_SLOTS);
  private readonly maxProbationSlots: number;
  /** sumWindow's result (requests, errors, bits low, bits high), reused. */
  private readonly totals = new Int32Array(4);

  constructor(options: ClientWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketCount = options.buckets ?? 6;
    this.maxClients = options.maxClients ?? 100_000;
    this.minRateSpanMs = options.minRateSpanMs ?? 5_000;
    this.bucketMs = this.windowMs / this.bucketCount;
    if (!(this.bucketMs > 0) || !Number.isInteger(this.bucketCount) || this.maxClients < 1)
      throw new RangeError('ClientWindow needs a positive window, a whole number of buckets and maxClients');
    this.ringWidth = this.bucketCount * SLOT_WIDTH;
    const capacity = Math.min(INITIAL_CAPACITY, this.maxClients);
    this.hotFloats = new Float64Array(capacity * HOT_FLOATS);
    this.hotInts = new Int32Array(this.hotFloats.buffer);
    this.ring = new Int32Array(capacity * this.ringWidth);
    this.maxProbationSlots = Math.max(PROBATION_INITIAL_SLOTS, 2 ** Math.ceil(Math.log2(this.maxClients * 8)));
  }

  /** Clients with a record: those with two or more requests (clients seen once are on probation). */
  get size(): number {
    return this.clients.size;
  }

  /**
   * Records one request and returns the client's statistics including it, written into `out`
   * when given (the scorer's hot loop reuses one object instead of allocating per row).
   */
  observe(clientIp: string, timestampMs: number, status: number, path: string, out: ClientStats = emptyStats()): ClientStats {
    const bucket = Math.floor(timestampMs / this.bucketMs);
    const bit = hashString(path) % SKETCH_BITS;
    const isError = status >= 400 ? 1 : 0;
    let record = this.clients.get(clientIp);
    if (record === undefined) {
      const key = hashString(clientIp) | 0;
      const slot = this.probation.find(key);
      if (slot >= 0 && Math.floor(this.probation.time(slot) / this.bucketMs) > bucket - this.bucketCount) {
        record = this.promote(slot);
      } else {
        this.remember(key, timestampMs, isError, bit);
        return this.fill(out, timestampMs, timestampMs, bucket, 1, isError, 1);
      }
      this.clients.set(clientIp, record);
    }
    const floats = this.hotFloats;
    const ints = this.hotInts;
    const f = record * HOT_FLOATS;
    const i = record * HOT_INTS;
    if (timestampMs > floats[f + LAST_SEEN]!) floats[f + LAST_SEEN] = timestampMs;
    const latest = floats[f + LATEST_BUCKET]!;
    if (bucket !== latest) {
      if (bucket < latest) return this.observeEarlier(record, timestampMs, bucket, isError, bit, out);
      this.moveOn(record, timestampMs, bucket);
    }
    ints[i + LATEST_REQUESTS] += 1;
    ints[i + LATEST_ERRORS] += isError;
    ints[i + (bit < 32 ? LATEST_BITS_LOW : LATEST_BITS_HIGH)] |= 1 << (bit & 31);
    if (timestampMs < floats[f + FIRST_SEEN]!) floats[f + FIRST_SEEN] = timestampMs;

    const requests = ints[i + OLDER_REQUESTS]! + ints[i + LATEST_REQUESTS]!;
    const errors = ints[i + OLDER_ERRORS]! + ints[i + LATEST_ERRORS]!;
    const setBits =
      popcount(ints[i + OLDER_BITS_LOW]! | ints[i + LATEST_BITS_LOW]!) + popcount(ints[i + OLDER_BITS_HIGH]! | ints[i + LATEST_BITS_HIGH]!);
    return this.fill(out, floats[f + FIRST_SEEN]!, timestampMs, bucket, requests, errors, setBits);
  }

  /** Statistics of a client at a time without recording a request. */
  stats(clientIp: string, nowMs: number): ClientStats {
    const nowBucket = Math.floor(nowMs / this.bucketMs);
    const record = this.clients.get(clientIp);
    if (record !== undefined) return this.statsAt(record, nowMs, nowBucket, emptyStats());
    const first = this.probation;
    const slot = first.find(hashString(clientIp) | 0);
    if (slot < 0) return emptyStats();
    const firstBucket = Math.floor(first.time(slot) / this.bucketMs);
    if (firstBucket <= nowBucket - this.bucketCount || firstBucket > nowBucket) return emptyStats();
    return this.fill(emptyStats(), first.time(slot), nowMs, nowBucket, 1, (first.facts(slot) >> 1) & 1, 1);
  }

  /** Notes a client's first request on probation, making the table bigger when it has grown too crowded. */
  private remember(key: number, timestampMs: number, isError: number, bit: number): void {
    if (this.probation.overwrites > this.probation.size / 16 && this.probation.size < this.maxProbationSlots)
      this.probation = this.probation.grown();
    this.probation.put(key, timestampMs, 1 | (isError << 1) | (bit << 2), timestampMs - this.windowMs);
  }

  /** A record for a client on probation, holding its first request as observe would have counted it. */
  private promote(slot: number): number {
    const first = this.probation;
    const firstMs = first.time(slot);
    const facts = first.facts(slot);
    first.clear(slot);
    const record = this.newRecord(firstMs, Math.floor(firstMs / this.bucketMs));
    const i = record * HOT_INTS;
    const bit = facts >>> 2;
    this.hotInts[i + LATEST_REQUESTS] = 1;
    this.hotInts[i + LATEST_ERRORS] = (facts >> 1) & 1;
    this.hotInts[i + (bit < 32 ? LATEST_BITS_LOW : LATEST_BITS_HIGH)] = 1 << (bit & 31);
    return record;
  }

  private statsAt(record: number, nowMs: number, nowBucket: number, out: ClientStats): ClientStats {
    const [requests, errors, low, high] = this.sumWindow(record, nowBucket);
    return this.fill(
      out,
      this.hotFloats[record * HOT_FLOATS + FIRST_SEEN]!,
      nowMs,
      nowBucket,
      requests!,
      errors!,
      popcount(low!) + popcount(high!),
    );
  }

  /**
   * A request in a later bucket than the client's latest: the latest bucket moves to the ring,
   * the slots of skipped buckets are cleared, and the older buckets' totals are summed again.
   */
  private moveOn(record: number, timestampMs: number, bucket: number): void {
    const floats = this.hotFloats;
    const ints = this.hotInts;
    const ring = this.ring;
    const f = record * HOT_FLOATS;
    const i = record * HOT_INTS;
    const r = record * this.ringWidth;
    const latest = floats[f + LATEST_BUCKET]!;
    if (bucket - latest < this.bucketCount) {
      const slot = r + this.slotOf(latest);
      ring[slot + REQUESTS] = ints[i + LATEST_REQUESTS]!;
      ring[slot + ERRORS] = ints[i + LATEST_ERRORS]!;
      ring[slot + BITS_LOW] = ints[i + LATEST_BITS_LOW]!;
      ring[slot + BITS_HIGH] = ints[i + LATEST_BITS_HIGH]!;
      for (let skipped = latest + 1; skipped < bucket; skipped += 1) clearSlot(ring, r + this.slotOf(skipped));
    } else {
      // The whole window passed without a request (the latest bucket always holds one): the
      // client starts afresh, its rate measured from now.
      floats[f + FIRST_SEEN] = timestampMs;
      for (let slot = r; slot < r + this.ringWidth; slot += SLOT_WIDTH) clearSlot(ring, slot);
    }
    floats[f + LATEST_BUCKET] = bucket;
    ints[i + LATEST_REQUESTS] = 0;
    ints[i + LATEST_ERRORS] = 0;
    ints[i + LATEST_BITS_LOW] = 0;
    ints[i + LATEST_BITS_HIGH] = 0;
    // With the new latest bucket still empty, its window's totals are those of the older buckets.
    const [requests, errors, low, high] = this.sumWindow(record, bucket);
    ints[i + OLDER_REQUESTS] = requests!;
    ints[i + OLDER_ERRORS] = errors!;
    ints[i + OLDER_BITS_LOW] = low!;
    ints[i + OLDER_BITS_HIGH] = high!;
  }

  /**
   * A request that arrived late, in a bucket before the client's latest: counted in its ring slot
   * (and in the older buckets' totals) while the window still holds that bucket, else ignored.
   * Returns the statistics as of its own time, over the buckets the window still holds.
   */
  private observeEarlier(record: number, timestampMs: number, bucket: number, isError: number, bit: number, out: ClientStats): ClientStats {
    const f = record * HOT_FLOATS;
    const i = record * HOT_INTS;
    if (bucket > this.hotFloats[f + LATEST_BUCKET]! - this.bucketCount) {
      const ints = this.hotInts;
      const slot = record * this.ringWidth + this.slotOf(bucket);
      const word = bit < 32 ? 0 : 1;
      const mask = 1 << (bit & 31);
      this.ring[slot + REQUESTS] += 1;
      this.ring[slot + ERRORS] += isError;
      this.ring[slot + BITS_LOW + word] |= mask;
      ints[i + OLDER_REQUESTS] += 1;
      ints[i + OLDER_ERRORS] += isError;
      ints[i + OLDER_BITS_LOW + word] |= mask;
      if (timestampMs < this.hotFloats[f + FIRST_SEEN]!) this.hotFloats[f + FIRST_SEEN] = timestampMs;
    }
    return this.statsAt(record, timestampMs, bucket, out);
  }

  /** Requests, errors and the path sketch's two words of the client's buckets inside the window that ends with `bucket`. */
  private sumWindow(record: number, bucket: number): Int32Array {
    const latest = this.hotFloats[record * HOT_FLOATS + LATEST_BUCKET]!;
    const totals = this.totals;
    const first = Math.max(bucket, latest) - this.bucketCount + 1;
    const latestCounts = latest <= bucket && latest >= first;
    const i = record * HOT_INTS;
    totals[REQUESTS] = latestCounts ? this.hotInts[i + LATEST_REQUESTS]! : 0;
    totals[ERRORS] = latestCounts ? this.hotInts[i + LATEST_ERRORS]! : 0;
    totals[BITS_LOW] = latestCounts ? this.hotInts[i + LATEST_BITS_LOW]! : 0;
    totals[BITS_HIGH] = latestCounts ? this.hotInts[i + LATEST_BITS_HIGH]! : 0;
    // Ring buckets: those before the latest that the window reaches, up to `bucket`.
    const ring = this.ring;
    const r = record * this.ringWidth;
    for (let past = first; past < latest && past <= bucket; past += 1) {
      const slot = r + this.slotOf(past);
      totals[REQUESTS] += ring[slot + REQUESTS]!;
      totals[ERRORS] += ring[slot + ERRORS]!;
      totals[BITS_LOW] |= ring[slot + BITS_LOW]!;
      totals[BITS_HIGH] |= ring[slot + BITS_HIGH]!;
    }
    return totals;
  }

  private slotOf(bucket: number): number {
    const residue = bucket % this.bucketCount;
    return (residue < 0 ? residue + this.bucketCount : residue) * SLOT_WIDTH;
  }

  private fill(
    out: ClientStats,
    firstSeenMs: number,
    nowMs: number,
    nowBucket: number,
    requests: number,
    errors: number,
    setBits: number,
  ): ClientStats {
    const windowStartMs = (nowBucket - this.bucketCount + 1) * this.bucketMs;
    const spanMs = Math.max(this.minRateSpanMs, nowMs - Math.max(firstSeenMs, windowStartMs));
    out.requests = requests;
    out.requestsPerSecond = (requests * 1000) / spanMs;
    out.errorRatio = requests === 0 ? 0 : errors / requests;
    out.distinctPaths = Math.min(requests, LINEAR_COUNT[setBits]!);
    return out;
  }

  /** A zeroed record for a client first seen now, with `bucket` as its latest. */
  private newRecord(timestampMs: number, bucket: number): number {
    if (this.clients.size >= this.maxClients) this.evict(timestampMs);
    let record = this.freeRecords.pop();
    if (record === undefined) {
      record = this.usedRecords;
      this.usedRecords += 1;
      if ((record + 1) * HOT_FLOATS > this.hotFloats.length) this.grow();
    }
    const f = record * HOT_FLOATS;
    this.hotFloats[f + FIRST_SEEN] = timestampMs;
    this.hotFloats[f + LAST_SEEN] = timestampMs;
    this.hotFloats[f + LATEST_BUCKET] = bucket;
    const i = record * HOT_INTS;
    for (let field = LATEST_REQUESTS; field <= OLDER_BITS_HIGH; field += 1) this.hotInts[i + field] = 0;
    const r = record * this.ringWidth;
    for (let slot = r; slot < r + this.ringWidth; slot += SLOT_WIDTH) clearSlot(this.ring, slot);
    return record;
  }

  private grow(): void {
    const capacity = Math.min((this.hotFloats.length / HOT_FLOATS) * 2, this.maxClients);
    const hotFloats = new Float64Array(capacity * HOT_FLOATS);
    hotFloats.set(this.hotFloats);
    const ring = new Int32Array(capacity * this.ringWidth);
    ring.set(this.ring);
    this.hotFloats = hotFloats;
    this.hotInts = new Int32Array(hotFloats.buffer);
    this.ring = ring;
  }

  /**
   * Makes room: forgets the least recently seen tenth of the clients (and every client not seen
   * within the window). The cutoff comes from a sample of last-seen times rather than a sort of
   * all clients: busy sites meet new clients by the thousand per second, and a sweep is two passes
   * over the clients, once per maxClients / 10 new ones.
   */
  private evict(nowMs: number): void {
    const target = Math.floor(this.maxClients * 0.9);
    const lastSeen = (record: number) => this.hotFloats[record * HOT_FLOATS + LAST_SEEN]!;
    const stride = Math.max(1, Math.floor(this.clients.size / EVICTION_SAMPLE));
    const sample: number[] = [];
    let index = 0;
    for (const record of this.clients.values()) if (index++ % stride === 0) sample.push(lastSeen(record));
    sample.sort((a, b) => a - b);
    const share = (this.clients.size - target) / this.clients.size;
    const cutoff = Math.max(nowMs - this.windowMs, sample[Math.min(sample.length - 1, Math.ceil(share * sample.length))]!);
    const forget = (ip: string, record: number) => {
      this.clients.delete(ip);
      this.freeRecords.push(record);
    };
    for (const [ip, record] of this.clients) if (lastSeen(record) < cutoff) forget(ip, record);
    // Many clients seen at the cutoff time itself: the first met go first.
    for (const [ip, record] of this.clients) {
      if (this.clients.size <= target) break;
      forget(ip, record);
    }
  }
}

function clearSlot(ring: Int32Array, slot: number): void {
  ring[slot + REQUESTS] = 0;
  ring[slot + ERRORS] = 0;
  ring[slot + BITS_LOW] = 0;
  ring[slot + BITS_HIGH] = 0;
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
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const PROBATION_INITIAL_SLOTS = 4096;
const WAYS = 4;

/**
 * First requests of clients without a record, by address hash: sets of WAYS slots (the hash picks
 * the set), a slot being 16 bytes (time as float64, then the hash and 1 | isError << 1 |
 * pathBit << 2 as int32; 0: empty), so a set is one 64-byte cache line.
 */
class Probation {
  private readonly floats: Float64Array;
  private readonly ints: Int32Array;
  /** Entries still inside the window that a newcomer replaced: the table is too small for the traffic. */
  overwrites = 0;

  constructor(readonly size: number) {
    this.floats = new Float64Array(size * 2);
    this.ints = new Int32Array(this.floats.buffer);
  }

  time(slot: number): number {
    return this.floats[slot * 2]!;
  }

  facts(slot: number): number {
    return this.ints[slot * 4 + 3]!;
  }

  private key(slot: number): number {
    return this.ints[slot * 4 + 2]!;
  }

  private setOf(key: number): number {
    // FNV's low bits are weak for similar strings: fold the high half in.
    return (key ^ (key >>> 16)) & (this.size - 1) & ~(WAYS - 1);
  }

  /** The slot holding this hash, or -1. */
  find(key: number): number {
    const set = this.setOf(key);
    for (let slot = set; slot < set + WAYS; slot += 1) if (this.facts(slot) !== 0 && this.key(slot) === key) return slot;
    return -1;
  }

  /** Stores an entry in its set: in an empty slot, else over the oldest one (counted when newer than `staleBeforeMs`). */
  put(key: number, timeMs: number, facts: number, staleBeforeMs: number): void {
    const set = this.setOf(key);
    let target = set;
    for (let slot = set; slot < set + WAYS; slot += 1) {
      if (this.facts(slot) === 0 || this.key(slot) === key) {
        target = slot;
        break;
      }
      if (this.time(slot) < this.time(target)) target = slot;
    }
    if (this.facts(target) !== 0 && this.key(target) !== key && this.time(target) >= staleBeforeMs) this.overwrites += 1;
    this.floats[target * 2] = timeMs;
    this.ints[target * 4 + 2] = key;
    this.ints[target * 4 + 3] = facts;
  }

  clear(slot: number): void {
    this.ints[slot * 4 + 3] = 0;
  }

  /** Twice the size, holding the same entries. */
  grown(): Probation {
    const bigger = new Probation(this.size * 2);
    for (let slot = 0; slot < this.size; slot += 1) {
      if (this.facts(slot) !== 0) bigger.put(this.key(slot), this.time(slot), this.facts(slot), Number.NEGATIVE_INFINITY);
    }
    bigger.overwrites = 0;
    return bigger;
  }
}
