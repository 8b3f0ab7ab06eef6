// The traffic state a streamer keeps across micro-batches: per client, the request rate and
// distinct paths over a sliding window and decayed counts of its recent requests, errors, 404s and
// authentication failures; per endpoint (path template), decayed counts of its requests and errors.
// Memory is bounded: fixed-width records in shared typed arrays, a 64-bit sketch for distinct paths,
// a small table for clients seen only once, eviction of idle, then least recently seen, clients.
import type { LogEvent } from '../logs/record.js';

export interface ClientWindowOptions {
  /** Window length (default 60 s). */
  windowMs?: number;
  /** Buckets the window is split into (default 6). */
  buckets?: number;
  /** Clients tracked at most; the least recently seen are forgotten first (default 100,000). */
  maxClients?: number;
  /** Shortest span a rate is measured over, so one request is not an infinite rate (default 5 s). */
  minRateSpanMs?: number;
  /**
   * Time constant of a client's recent counts (default 15 minutes): long enough that a client
   * making one request a minute builds up evidence, as one making a thousand a second does.
   */
  recentMs?: number;
  /**
   * Time constant of an endpoint's and the site's recent counts (default 2 minutes: within the
   * warm-up of a training slice, so training rows see them as the streamer does).
   */
  endpointRecentMs?: number;
  /** Endpoints (path templates) tracked at most (default 20,000). */
  maxEndpoints?: number;
}

/** What the window needs of a request. */
export type WindowRequest = Pick<LogEvent, 'clientIp' | 'timestampMs' | 'status' | 'method' | 'path' | 'pathTemplate'>;

export interface ClientStats {
  /** Requests in the window, including the current one. */
  requests: number;
  requestsPerSecond: number;
  /** Estimated distinct request paths in the window. */
  distinctPaths: number;
  /** The client's requests, exponentially decayed with time constant recentMs, including the current one. */
  recentRequests: number;
  /** ...of which answered with status >= 400... */
  recentErrors: number;
  /** ...with 404 or 410: paths the site does not serve... */
  recentNotFound: number;
  /** ...and authentication failures: 401, or 403 to a POST. */
  recentAuthFailures: number;
  /**
   * The client's request rate over its recent history: recentRequests over the decayed time it has
   * been observed (at least a minute). The same estimate after a few minutes of observation as
   * after hours, so training rows sampled after a short warm-up see steady clients as a
   * long-running streamer does.
   */
  sustainedRequestsPerSecond: number;
  /** Requests to the same path template from every client, decayed with time constant endpointRecentMs. */
  endpointRequests: number;
  /** ...of which answered with status >= 400. */
  endpointErrors: number;
  /** Requests to the whole site, decayed with time constant endpointRecentMs... */
  siteRequests: number;
  /** ...of which answered 404 or 410: many clients asking for paths the site does not serve is a distributed scan. */
  siteNotFound: number;
}

/** Request facts the window counts, as bits. */
const ERROR = 1;
const NOT_FOUND = 2;
const AUTH_FAILURE = 4;

export function requestFacts(status: number, method: string): number {
  if (status < 400) return 0;
  return (
    ERROR |
    (status === 404 || status === 410 ? NOT_FOUND : 0) |
    (status === 401 || (status === 403 && method === 'POST') ? AUTH_FAILURE : 0)
  );
}

/**
 * Each client has a hot record and a ring of past buckets, both in shared typed arrays (arenas of
 * fixed-width records, so a new client allocates nothing and a lookup touches little memory).
 *
 * The hot record (HOT_BYTES, a cache line's worth) holds what the common case, another request in
 * the client's latest bucket, reads and writes: first and last seen time, the latest bucket's id,
 * requests and path sketch, the totals of the window's older buckets, and the decayed recent
 * counts (as of the last-seen time). Only a request in a new bucket reads the ring: it moves the
 * finished bucket there and sums the ring again.
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
// Int32 fields (index within the record's HOT_INTS), after the two float64s.
const LATEST_BUCKET = 4;
const LATEST_REQUESTS = 5;
const LATEST_BITS_LOW = 6;
const LATEST_BITS_HIGH = 7;
const OLDER_REQUESTS = 8;
const OLDER_BITS_LOW = 9;
const OLDER_BITS_HIGH = 10;
// Float32 fields (same indices as int32), the decayed recent counts.
const RECENT_REQUESTS = 11;
const RECENT_ERRORS = 12;
const RECENT_NOT_FOUND = 13;
const RECENT_AUTH = 14;
/** The decayed time the client has been observed: tau · (1 − e^(−age / tau)), in ms. */
const HORIZON = 15;
/** Shortest observed time a sustained rate is measured over. */
const MIN_HORIZON_MS = 60_000;
// Int32 fields of a ring slot.
const SLOT_WIDTH = 3;
const REQUESTS = 0;
const BITS_LOW = 1;
const BITS_HIGH = 2;

const SKETCH_BITS = 64;
const INITIAL_CAPACITY = 1024;
/** Last-seen times an eviction sweep samples to find its cutoff. */
const EVICTION_SAMPLE = 1024;
/** A client is forgotten first once its recent counts have decayed to this share (e^-3 ≈ 5%). */
const FORGET_AFTER_TIME_CONSTANTS = 3;

export class ClientWindow {
  readonly windowMs: number;
  readonly bucketCount: number;
  readonly maxClients: number;
  readonly recentMs: number;
  private readonly bucketMs: number;
  private readonly minRateSpanMs: number;
  private readonly ringWidth: number;
  private readonly forgetMs: number;
  /** Client address (its 64-bit hash) → record number. */
  private readonly clients = new RecordIndex();
  /** Per record, the two halves of its address hash (for eviction), and whether it is in use. */
  private recordKeys: Int32Array;
  private recordLive: Uint8Array;
  private hotFloats: Float64Array;
  private hotInts: Int32Array;
  private hotReals: Float32Array;
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
  /** sumWindow's result (requests, bits low, bits high), reused. */
  private readonly totals = new Int32Array(3);
  private readonly endpoints: EndpointCounts;

  constructor(options: ClientWindowOptions = {}) {
    this.windowMs = options.windowMs ?? 60_000;
    this.bucketCount = options.buckets ?? 6;
    this.maxClients = options.maxClients ?? 100_000;
    this.minRateSpanMs = options.minRateSpanMs ?? 5_000;
    this.recentMs = options.recentMs ?? 900_000;
    this.bucketMs = this.windowMs / this.bucketCount;
    if (!(this.bucketMs > 0) || !Number.isInteger(this.bucketCount) || this.maxClients < 1 || !(this.recentMs > 0))
      throw new RangeError('ClientWindow needs a positive window, a whole number of buckets, maxClients and a positive recentMs');
    this.forgetMs = Math.max(this.windowMs, FORGET_AFTER_TIME_CONSTANTS * this.recentMs);
    this.ringWidth = this.bucketCount * SLOT_WIDTH;
    const capacity = Math.min(INITIAL_CAPACITY, this.maxClients);
    this.hotFloats = new Float64Array(capacity * HOT_FLOATS);
    this.hotInts = new Int32Array(this.hotFloats.buffer);
    this.hotReals = new Float32Array(this.hotFloats.buffer);
    this.ring = new Int32Array(capacity * this.ringWidth);
    this.recordKeys = new Int32Array(capacity * 2);
    this.recordLive = new Uint8Array(capacity);
    this.maxProbationSlots = Math.max(PROBATION_INITIAL_SLOTS, 2 ** Math.ceil(Math.log2(this.maxClients * 8)));
    this.endpoints = new EndpointCounts(options.endpointRecentMs ?? 120_000, options.maxEndpoints ?? 20_000);
  }

  /** Clients with a record: those with two or more requests (clients seen once are on probation). */
  get size(): number {
    return this.clients.size;
  }

  /** Endpoints (path templates) with recent counts. */
  get endpointCount(): number {
    return this.endpoints.size;
  }

  /**
   * Records one request and returns its client's and endpoint's statistics including it, written
   * into `out` when given (the scorer's hot loop reuses one object instead of allocating per row).
   */
  observe(request: WindowRequest, out: ClientStats = emptyStats()): ClientStats {
    const timestampMs = request.timestampMs;
    const facts = requestFacts(request.status, request.method);
    this.endpoints.observe(request.pathTemplate, timestampMs, facts, out);
    const bucket = Math.floor(timestampMs / this.bucketMs);
    const bit = hashString(request.path) % SKETCH_BITS;
    hashPair(request.clientIp, PAIR);
    const key = PAIR[0]!;
    const check = PAIR[1]!;
    let record = this.clients.get(key, check);
    if (record < 0) {
      const slot = this.probation.find(key);
      if (slot >= 0 && this.probation.time(slot) > timestampMs - this.forgetMs) {
        record = this.promote(slot, timestampMs, bucket);
      } else {
        this.remember(key, timestampMs, facts, bit);
        fillRecent(out, 1, facts, 0, this.recentMs);
        return this.fill(out, timestampMs, timestampMs, bucket, 1, 1);
      }
      this.clients.set(key, check, record);
      this.recordKeys[record * 2] = key;
      this.recordKeys[record * 2 + 1] = check;
      this.recordLive[record] = 1;
    }
    const floats = this.hotFloats;
    const ints = this.hotInts;
    const f = record * HOT_FLOATS;
    const i = record * HOT_INTS;
    this.addRecent(record, timestampMs, facts, out);
    if (timestampMs > floats[f + LAST_SEEN]!) floats[f + LAST_SEEN] = timestampMs;
    const latest = ints[i + LATEST_BUCKET]!;
    if (bucket !== latest) {
      if (bucket < latest) return this.observeEarlier(record, timestampMs, bucket, bit, out);
      this.moveOn(record, timestampMs, bucket);
    }
    ints[i + LATEST_REQUESTS] += 1;
    ints[i + (bit < 32 ? LATEST_BITS_LOW : LATEST_BITS_HIGH)] |= 1 << (bit & 31);
    if (timestampMs < floats[f + FIRST_SEEN]!) floats[f + FIRST_SEEN] = timestampMs;

    const requests = ints[i + OLDER_REQUESTS]! + ints[i + LATEST_REQUESTS]!;
    const setBits =
      popcount(ints[i + OLDER_BITS_LOW]! | ints[i + LATEST_BITS_LOW]!) + popcount(ints[i + OLDER_BITS_HIGH]! | ints[i + LATEST_BITS_HIGH]!);
    return this.fill(out, floats[f + FIRST_SEEN]!, timestampMs, bucket, requests, setBits);
  }

  /** Statistics of a client (and of an endpoint, when given) at a time, without recording a request. */
  stats(clientIp: string, nowMs: number, pathTemplate?: string): ClientStats {
    const out = emptyStats();
    if (pathTemplate !== undefined) this.endpoints.peek(pathTemplate, nowMs, out);
    const nowBucket = Math.floor(nowMs / this.bucketMs);
    hashPair(clientIp, PAIR);
    const record = this.clients.get(PAIR[0]!, PAIR[1]!);
    if (record >= 0) {
      const decay = decayFactor(Math.max(0, nowMs - this.hotFloats[record * HOT_FLOATS + LAST_SEEN]!), this.recentMs);
      const reals = this.hotReals;
      const i = record * HOT_INTS;
      out.recentRequests = reals[i + RECENT_REQUESTS]! * decay;
      out.recentErrors = reals[i + RECENT_ERRORS]! * decay;
      out.recentNotFound = reals[i + RECENT_NOT_FOUND]! * decay;
      out.recentAuthFailures = reals[i + RECENT_AUTH]! * decay;
      const horizon = this.recentMs - (this.recentMs - reals[i + HORIZON]!) * decay;
      out.sustainedRequestsPerSecond = (out.recentRequests * 1000) / Math.max(MIN_HORIZON_MS, horizon);
      return this.statsAt(record, nowMs, nowBucket, out);
    }
    const first = this.probation;
    const slot = first.find(PAIR[0]!);
    if (slot < 0 || first.time(slot) > nowMs || first.time(slot) <= nowMs - this.forgetMs) return out;
    fillRecent(out, decayFactor(nowMs - first.time(slot), this.recentMs), first.facts(slot) >> 1, nowMs - first.time(slot), this.recentMs);
    const firstBucket = Math.floor(first.time(slot) / this.bucketMs);
    if (firstBucket <= nowBucket - this.bucketCount) return out;
    return this.fill(out, first.time(slot), nowMs, nowBucket, 1, 1);
  }

  /** Notes a client's first request on probation, making the table bigger when it has grown too crowded. */
  private remember(key: number, timestampMs: number, facts: number, bit: number): void {
    if (this.probation.overwrites > this.probation.size / 16 && this.probation.size < this.maxProbationSlots)
      this.probation = this.probation.grown();
    this.probation.put(key, timestampMs, 1 | (facts << 1) | (bit << 4), timestampMs - this.windowMs);
  }

  /**
   * A record for a client on probation, holding its first request as observe would have counted
   * it: in the window when its bucket is still there, and in the recent counts, decayed.
   */
  private promote(slot: number, nowMs: number, nowBucket: number): number {
    const first = this.probation;
    const firstMs = first.time(slot);
    const facts = first.facts(slot);
    first.clear(slot);
    const firstBucket = Math.floor(firstMs / this.bucketMs);
    const inWindow = firstBucket > nowBucket - this.bucketCount;
    const record = this.newRecord(inWindow ? firstMs : nowMs, inWindow ? firstBucket : nowBucket, nowMs);
    const i = record * HOT_INTS;
    if (inWindow) {
      const bit = facts >>> 4;
      this.hotInts[i + LATEST_REQUESTS] = 1;
      this.hotInts[i + (bit < 32 ? LATEST_BITS_LOW : LATEST_BITS_HIGH)] = 1 << (bit & 31);
    }
    this.hotFloats[record * HOT_FLOATS + LAST_SEEN] = firstMs;
    const reals = this.hotReals;
    const counted = (facts >> 1) & 7;
    reals[i + RECENT_REQUESTS] = 1;
    reals[i + RECENT_ERRORS] = counted & ERROR;
    reals[i + RECENT_NOT_FOUND] = (counted & NOT_FOUND) >> 1;
    reals[i + RECENT_AUTH] = (counted & AUTH_FAILURE) >> 2;
    reals[i + HORIZON] = 0;
    return record;
  }

  /** Decays the record's recent counts to the later of its last-seen time and now, and adds the request. */
  private addRecent(record: number, timestampMs: number, facts: number, out: ClientStats): void {
    const reals = this.hotReals;
    const i = record * HOT_INTS;
    const lastSeenMs = this.hotFloats[record * HOT_FLOATS + LAST_SEEN]!;
    let requests = reals[i + RECENT_REQUESTS]!;
    let errors = reals[i + RECENT_ERRORS]!;
    let notFound = reals[i + RECENT_NOT_FOUND]!;
    let auth = reals[i + RECENT_AUTH]!;
    let horizon = reals[i + HORIZON]!;
    if (timestampMs >= lastSeenMs) {
      if (timestampMs > lastSeenMs) {
        const decay = decayFactor(timestampMs - lastSeenMs, this.recentMs);
        requests *= decay;
        errors *= decay;
        notFound *= decay;
        auth *= decay;
        horizon = this.recentMs - (this.recentMs - horizon) * decay;
      }
      requests += 1;
      if (facts !== 0) {
        errors += 1;
        notFound += (facts & NOT_FOUND) >> 1;
        auth += (facts & AUTH_FAILURE) >> 2;
      }
    } else {
      // A late request counts as much as it would have decayed by the last-seen time.
      const weight = decayFactor(lastSeenMs - timestampMs, this.recentMs);
      requests += weight;
      if (facts !== 0) {
        errors += weight;
        notFound += ((facts & NOT_FOUND) >> 1) * weight;
        auth += ((facts & AUTH_FAILURE) >> 2) * weight;
      }
    }
    reals[i + RECENT_REQUESTS] = requests;
    reals[i + RECENT_ERRORS] = errors;
    reals[i + RECENT_NOT_FOUND] = notFound;
    reals[i + RECENT_AUTH] = auth;
    reals[i + HORIZON] = horizon;
    out.sustainedRequestsPerSecond = (requests * 1000) / Math.max(MIN_HORIZON_MS, horizon);
    out.recentRequests = requests;
    out.recentErrors = errors;
    out.recentNotFound = notFound;
    out.recentAuthFailures = auth;
  }

  private statsAt(record: number, nowMs: number, nowBucket: number, out: ClientStats): ClientStats {
    const totals = this.sumWindow(record, nowBucket);
    return this.fill(
      out,
      this.hotFloats[record * HOT_FLOATS + FIRST_SEEN]!,
      nowMs,
      nowBucket,
      totals[REQUESTS]!,
      popcount(totals[BITS_LOW]!) + popcount(totals[BITS_HIGH]!),
    );
  }

  /**
   * A request in a later bucket than the client's latest: the latest bucket moves to the ring,
   * the slots of skipped buckets are cleared, and the older buckets' totals are summed again.
   */
  private moveOn(record: number, timestampMs: number, bucket: number): void {
    const ints = this.hotInts;
    const ring = this.ring;
    const i = record * HOT_INTS;
    const r = record * this.ringWidth;
    const latest = ints[i + LATEST_BUCKET]!;
    if (bucket - latest < this.bucketCount) {
      const slot = r + this.slotOf(latest);
      ring[slot + REQUESTS] = ints[i + LATEST_REQUESTS]!;
      ring[slot + BITS_LOW] = ints[i + LATEST_BITS_LOW]!;
      ring[slot + BITS_HIGH] = ints[i + LATEST_BITS_HIGH]!;
      for (let skipped = latest + 1; skipped < bucket; skipped += 1) clearSlot(ring, r + this.slotOf(skipped));
    } else {
      // The whole window passed without a request (the latest bucket always holds one): the
      // client starts afresh, its rate measured from now.
      this.hotFloats[record * HOT_FLOATS + FIRST_SEEN] = timestampMs;
      for (let slot = r; slot < r + this.ringWidth; slot += SLOT_WIDTH) clearSlot(ring, slot);
    }
    ints[i + LATEST_BUCKET] = bucket;
    ints[i + LATEST_REQUESTS] = 0;
    ints[i + LATEST_BITS_LOW] = 0;
    ints[i + LATEST_BITS_HIGH] = 0;
    // With the new latest bucket still empty, its window's totals are those of the older buckets.
    const totals = this.sumWindow(record, bucket);
    ints[i + OLDER_REQUESTS] = totals[REQUESTS]!;
    ints[i + OLDER_BITS_LOW] = totals[BITS_LOW]!;
    ints[i + OLDER_BITS_HIGH] = totals[BITS_HIGH]!;
  }

  /**
   * A request that arrived late, in a bucket before the client's latest: counted in its ring slot
   * (and in the older buckets' totals) while the window still holds that bucket, else ignored.
   * Returns the statistics as of its own time, over the buckets the window still holds.
   */
  private observeEarlier(record: number, timestampMs: number, bucket: number, bit: number, out: ClientStats): ClientStats {
    const f = record * HOT_FLOATS;
    const i = record * HOT_INTS;
    if (bucket > this.hotInts[i + LATEST_BUCKET]! - this.bucketCount) {
      const ints = this.hotInts;
      const slot = record * this.ringWidth + this.slotOf(bucket);
      const word = bit < 32 ? 0 : 1;
      const mask = 1 << (bit & 31);
      this.ring[slot + REQUESTS] += 1;
      this.ring[slot + BITS_LOW + word] |= mask;
      ints[i + OLDER_REQUESTS] += 1;
      ints[i + OLDER_BITS_LOW + word] |= mask;
      if (timestampMs < this.hotFloats[f + FIRST_SEEN]!) this.hotFloats[f + FIRST_SEEN] = timestampMs;
    }
    return this.statsAt(record, timestampMs, bucket, out);
  }

  /** Requests and the path sketch's two words of the client's buckets inside the window that ends with `bucket`. */
  private sumWindow(record: number, bucket: number): Int32Array {
    const i = record * HOT_INTS;
    const latest = this.hotInts[i + LATEST_BUCKET]!;
    const totals = this.totals;
    const first = Math.max(bucket, latest) - this.bucketCount + 1;
    const latestCounts = latest <= bucket && latest >= first;
    totals[REQUESTS] = latestCounts ? this.hotInts[i + LATEST_REQUESTS]! : 0;
    totals[BITS_LOW] = latestCounts ? this.hotInts[i + LATEST_BITS_LOW]! : 0;
    totals[BITS_HIGH] = latestCounts ? this.hotInts[i + LATEST_BITS_HIGH]! : 0;
    // Ring buckets: those before the latest that the window reaches, up to `bucket`.
    const ring = this.ring;
    const r = record * this.ringWidth;
    for (let past = first; past < latest && past <= bucket; past += 1) {
      const slot = r + this.slotOf(past);
      totals[REQUESTS] += ring[slot + REQUESTS]!;
      totals[BITS_LOW] |= ring[slot + BITS_LOW]!;
      totals[BITS_HIGH] |= ring[slot + BITS_HIGH]!;
    }
    return totals;
  }

  private slotOf(bucket: number): number {
    const residue = bucket % this.bucketCount;
    return (residue < 0 ? residue + this.bucketCount : residue) * SLOT_WIDTH;
  }

  private fill(out: ClientStats, firstSeenMs: number, nowMs: number, nowBucket: number, requests: number, setBits: number): ClientStats {
    const windowStartMs = (nowBucket - this.bucketCount + 1) * this.bucketMs;
    const spanMs = Math.max(this.minRateSpanMs, nowMs - Math.max(firstSeenMs, windowStartMs));
    out.requests = requests;
    out.requestsPerSecond = (requests * 1000) / spanMs;
    out.distinctPaths = Math.min(requests, LINEAR_COUNT[setBits]!);
    return out;
  }

  /** A zeroed record for a client whose window starts at `firstSeenMs` in `bucket`. */
  private newRecord(firstSeenMs: number, bucket: number, nowMs: number): number {
    if (this.clients.size >= this.maxClients) this.evict(nowMs);
    let record = this.freeRecords.pop();
    if (record === undefined) {
      record = this.usedRecords;
      this.usedRecords += 1;
      if ((record + 1) * HOT_FLOATS > this.hotFloats.length) this.grow();
    }
    const f = record * HOT_FLOATS;
    this.hotFloats[f + FIRST_SEEN] = firstSeenMs;
    this.hotFloats[f + LAST_SEEN] = firstSeenMs;
    const i = record * HOT_INTS;
    for (let field = LATEST_BUCKET; field < HOT_INTS; field += 1) this.hotInts[i + field] = 0;
    this.hotInts[i + LATEST_BUCKET] = bucket;
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
    const recordKeys = new Int32Array(capacity * 2);
    recordKeys.set(this.recordKeys);
    this.recordKeys = recordKeys;
    const recordLive = new Uint8Array(capacity);
    recordLive.set(this.recordLive);
    this.recordLive = recordLive;
    this.hotFloats = hotFloats;
    this.hotInts = new Int32Array(hotFloats.buffer);
    this.hotReals = new Float32Array(hotFloats.buffer);
    this.ring = ring;
  }

  /**
   * Makes room: forgets the least recently seen tenth of the clients (and every client whose
   * recent counts have decayed away). The cutoff comes from a sample of last-seen times rather than
   * a sort of all clients: busy sites meet new clients by the thousand per second, and a sweep is
   * two passes over the clients, once per maxClients / 10 new ones.
   */
  private evict(nowMs: number): void {
    const target = Math.floor(this.maxClients * 0.9);
    const lastSeen = (record: number) => this.hotFloats[record * HOT_FLOATS + LAST_SEEN]!;
    const stride = Math.max(1, Math.floor(this.clients.size / EVICTION_SAMPLE));
    const sample: number[] = [];
    let index = 0;
    for (let record = 0; record < this.usedRecords; record += 1)
      if (this.recordLive[record] && index++ % stride === 0) sample.push(lastSeen(record));
    sample.sort((a, b) => a - b);
    const share = (this.clients.size - target) / this.clients.size;
    const cutoff = Math.max(nowMs - this.forgetMs, sample[Math.min(sample.length - 1, Math.ceil(share * sample.length))]!);
    const forget = (record: number) => {
      this.clients.delete(this.recordKeys[record * 2]!, this.recordKeys[record * 2 + 1]!);
      this.recordLive[record] = 0;
      this.freeRecords.push(record);
    };
    for (let record = 0; record < this.usedRecords; record += 1) if (this.recordLive[record] && lastSeen(record) < cutoff) forget(record);
    // Many clients seen at the cutoff time itself: the oldest records go first.
    for (let record = 0; record < this.usedRecords && this.clients.size > target; record += 1) if (this.recordLive[record]) forget(record);
  }
}

/**
 * Decayed request and error counts per path template, over all clients: an endpoint's recent
 * error rate, which the features compare with its training baseline; and the site's share of 404s. Bounded: when full, endpoints
 * whose counts have decayed away are dropped, and if that is not enough, all of them.
 */
class EndpointCounts {
  /** Template → slot. */
  private readonly slots = new Map<string, number>();
  /** Per slot: last update time, decayed requests, decayed errors. */
  private values = new Float64Array(3 * 256);
  /** The whole site: last update time, decayed requests, decayed 404s. */
  private readonly site = new Float64Array(3);

  constructor(
    private readonly recentMs: number,
    private readonly maxEndpoints: number,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  observe(template: string, timestampMs: number, facts: number, out: ClientStats): void {
    let slot = this.slots.get(template);
    if (slot === undefined) slot = this.add(template, timestampMs);
    this.decayedAdd(this.values, slot * 3, timestampMs, facts & ERROR);
    out.endpointRequests = this.values[slot * 3 + 1]!;
    out.endpointErrors = this.values[slot * 3 + 2]!;
    this.decayedAdd(this.site, 0, timestampMs, (facts & NOT_FOUND) >> 1);
    out.siteRequests = this.site[1]!;
    out.siteNotFound = this.site[2]!;
  }

  /** [time, requests, hits] at `at`: decays to the later time and adds a request (a hit when `hit` is 1). */
  private decayedAdd(values: Float64Array, at: number, timestampMs: number, hit: number): void {
    const isError = hit;
    const lastMs = values[at]!;
    let requests = values[at + 1]!;
    let errors = values[at + 2]!;
    if (timestampMs > lastMs) {
      const decay = decayFactor(timestampMs - lastMs, this.recentMs);
      requests = requests * decay + 1;
      errors = errors * decay + isError;
      values[at] = timestampMs;
    } else if (timestampMs === lastMs) {
      requests += 1;
      errors += isError;
    } else {
      const weight = decayFactor(lastMs - timestampMs, this.recentMs);
      requests += weight;
      errors += isError * weight;
    }
    values[at + 1] = requests;
    values[at + 2] = errors;
  }

  peek(template: string, nowMs: number, out: ClientStats): void {
    const siteDecay = decayFactor(Math.max(0, nowMs - this.site[0]!), this.recentMs);
    out.siteRequests = this.site[1]! * siteDecay;
    out.siteNotFound = this.site[2]! * siteDecay;
    const slot = this.slots.get(template);
    if (slot === undefined) return;
    const decay = decayFactor(Math.max(0, nowMs - this.values[slot * 3]!), this.recentMs);
    out.endpointRequests = this.values[slot * 3 + 1]! * decay;
    out.endpointErrors = this.values[slot * 3 + 2]! * decay;
  }

  private add(template: string, timestampMs: number): number {
    if (this.slots.size >= this.maxEndpoints) this.makeRoom(timestampMs);
    const slot = this.slots.size;
    if ((slot + 1) * 3 > this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[slot * 3] = timestampMs;
    this.values[slot * 3 + 1] = 0;
    this.values[slot * 3 + 2] = 0;
    this.slots.set(template, slot);
    return slot;
  }

  /** Keeps the endpoints with counts left, renumbered; all go when even those fill the table. */
  private makeRoom(nowMs: number): void {
    const kept: [string, number, number, number][] = [];
    for (const [template, slot] of this.slots) {
      const at = slot * 3;
      if (this.values[at]! > nowMs - FORGET_AFTER_TIME_CONSTANTS * this.recentMs)
        kept.push([template, this.values[at]!, this.values[at + 1]!, this.values[at + 2]!]);
    }
    this.slots.clear();
    if (kept.length > this.maxEndpoints * 0.9) return;
    kept.forEach(([template, lastMs, requests, errors], slot) => {
      this.slots.set(template, slot);
      this.values[slot * 3] = lastMs;
      this.values[slot * 3 + 1] = requests;
      this.values[slot * 3 + 2] = errors;
    });
  }
}

/**
 * e^(-elapsed / timeConstant). Most calls are a few milliseconds apart on a time constant of
 * minutes: a cubic is exact to 4e-10 there and costs a fraction of Math.exp.
 */
function decayFactor(elapsedMs: number, timeConstantMs: number): number {
  const x = elapsedMs / timeConstantMs;
  return x < 0.01 ? 1 - x * (1 - x * (0.5 - x / 6)) : Math.exp(-x);
}

/** Recent counts of a client seen once, `ageMs` ago. */
function fillRecent(out: ClientStats, weight: number, facts: number, ageMs: number, recentMs: number): void {
  out.sustainedRequestsPerSecond = (weight * 1000) / Math.max(MIN_HORIZON_MS, recentMs * (1 - decayFactor(ageMs, recentMs)));
  out.recentRequests = weight;
  out.recentErrors = facts & ERROR ? weight : 0;
  out.recentNotFound = facts & NOT_FOUND ? weight : 0;
  out.recentAuthFailures = facts & AUTH_FAILURE ? weight : 0;
}

function clearSlot(ring: Int32Array, slot: number): void {
  ring[slot + REQUESTS] = 0;
  ring[slot + BITS_LOW] = 0;
  ring[slot + BITS_HIGH] = 0;
}

export const emptyStats = (): ClientStats => ({
  requests: 0,
  requestsPerSecond: 0,
  distinctPaths: 0,
  recentRequests: 0,
  recentErrors: 0,
  recentNotFound: 0,
  recentAuthFailures: 0,
  sustainedRequestsPerSecond: 0,
  endpointRequests: 0,
  endpointErrors: 0,
  siteRequests: 0,
  siteNotFound: 0,
});

/** Distinct-count estimate per number of set bits of a 64-bit linear-counting sketch (saturated: ~266). */
const LINEAR_COUNT = Float64Array.from({ length: SKETCH_BITS + 1 }, (_, setBits) =>
  setBits >= SKETCH_BITS ? SKETCH_BITS * Math.log(SKETCH_BITS) : -SKETCH_BITS * Math.log(1 - setBits / SKETCH_BITS),
);

function popcount(word: number): number {
  let value = word - ((word >>> 1) & 0x55555555);
  value = (value & 0x33333333) + ((value >>> 2) & 0x33333333);
  return (((value + (value >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** hashPair's result, reused: FNV-1a of the text, and a second, independent 32-bit hash. */
const PAIR = new Int32Array(2);

/**
 * Two 32-bit hashes of a client address in one pass: FNV-1a (which the probation table keys on)
 * and a multiply-xorshift one. Together 64 bits: among a million addresses the chance that two
 * share both is about 3 in 10^8, and then they would only share a window record.
 */
function hashPair(text: string, out: Int32Array): void {
  let first = 0x811c9dc5;
  let second = 0x9747b28c;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x5bd1e995);
    second ^= second >>> 13;
  }
  out[0] = first;
  out[1] = second ^ (second >>> 15);
}

/**
 * Address hash → record number, open addressing with linear probing in typed arrays (a Map of
 * address strings cost a fifth of the scoring path: hashing, comparing and retaining strings).
 * Deletion shifts later entries back, so no tombstones build up.
 */
class RecordIndex {
  private keys = new Int32Array(2 * 2048);
  /** record + 1; 0: empty. */
  private values = new Int32Array(2048);
  private mask = 2047;
  size = 0;

  get(key: number, check: number): number {
    const keys = this.keys;
    for (let slot = (key ^ (key >>> 16)) & this.mask; ; slot = (slot + 1) & this.mask) {
      const value = this.values[slot]!;
      if (value === 0) return -1;
      if (keys[slot * 2] === key && keys[slot * 2 + 1] === check) return value - 1;
    }
  }

  set(key: number, check: number, record: number): void {
    if ((this.size + 1) * 2 > this.values.length) this.grow();
    let slot = (key ^ (key >>> 16)) & this.mask;
    while (this.values[slot] !== 0) {
      if (this.keys[slot * 2] === key && this.keys[slot * 2 + 1] === check) {
        this.values[slot] = record + 1;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    this.keys[slot * 2] = key;
    this.keys[slot * 2 + 1] = check;
    this.values[slot] = record + 1;
    this.size += 1;
  }

  delete(key: number, check: number): void {
    let slot = (key ^ (key >>> 16)) & this.mask;
    for (; ; slot = (slot + 1) & this.mask) {
      if (this.values[slot] === 0) return;
      if (this.keys[slot * 2] === key && this.keys[slot * 2 + 1] === check) break;
    }
    this.values[slot] = 0;
    this.size -= 1;
    // Move back the entries of the run after it that would no longer be found.
    for (let next = (slot + 1) & this.mask; this.values[next] !== 0; next = (next + 1) & this.mask) {
      const home = (this.keys[next * 2]! ^ (this.keys[next * 2]! >>> 16)) & this.mask;
      const between = slot <= next ? home > slot && home <= next : home > slot || home <= next;
      if (between) continue;
      this.keys[slot * 2] = this.keys[next * 2]!;
      this.keys[slot * 2 + 1] = this.keys[next * 2 + 1]!;
      this.values[slot] = this.values[next]!;
      this.values[next] = 0;
      slot = next;
    }
  }

  private grow(): void {
    const { keys, values } = this;
    this.values = new Int32Array(values.length * 2);
    this.keys = new Int32Array(keys.length * 2);
    this.mask = this.values.length - 1;
    this.size = 0;
    for (let slot = 0; slot < values.length; slot += 1)
      if (values[slot] !== 0) this.set(keys[slot * 2]!, keys[slot * 2 + 1]!, values[slot]! - 1);
  }
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
 * the set), a slot being 16 bytes (time as float64, then the hash and 1 | requestFacts << 1 |
 * pathBit << 4 as int32; 0: empty), so a set is one 64-byte cache line.
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
