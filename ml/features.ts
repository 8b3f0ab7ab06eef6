// Feature spec "web-access-v1": turns canonical log rows into numeric vectors for K-means.
// The spec id is stored in every model; a model trained on another spec is refused.
import type { LogEvent } from '../logs/record.js';
import { ClientWindow, type ClientStats } from './clientWindow.js';
import { scalerKernel, type Scaler, type ScalerKernel } from './scaler.js';
import { classifyUserAgent, type AgentClass } from './userAgent.js';

export const FEATURE_SPEC_ID = 'web-access-v1';

export const FEATURE_NAMES = [
  'log_response_time_ms',
  'response_time_missing',
  'response_time_excess',
  'log_bytes',
  'bytes_excess',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'method_post',
  'method_other',
  'endpoint_log_frequency',
  'endpoint_unseen',
  'client_log_request_rate',
  'client_error_ratio',
  'client_log_distinct_paths',
  'agent_bot',
  'agent_api',
  'agent_other',
  'hour_sin',
  'hour_cos',
  'weekday_sin',
  'weekday_cos',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

/**
 * "standardised" features are divided by their training spread; "fixed" ones keep natural units
 * (0/1 indicators, ratios, e-folds of a log ratio), only centred: their spread in normal traffic
 * is so concentrated at one value that dividing by it would turn ordinary rows into outliers.
 */
export type FeatureKind = 'standardised' | 'fixed';

/**
 * Kind and weight of each feature. Weights say how many units of distance a feature may add:
 * response and client-behaviour deviations carry the anomaly signal and weigh most; absolute
 * sizes and times mostly separate endpoints and weigh less; the time of day only nudges
 * clusters, since traffic at an unusual hour is not an anomaly by itself. The clock features are
 * points on the unit circle, so they keep those units: their spread in training depends only on
 * how much of the week the training rows cover, and a model retrained on a one-day lookback would
 * otherwise stretch the day-of-week axis until every other day of the week looked anomalous.
 */
const FEATURE_DEFINITIONS: Record<FeatureName, { kind: FeatureKind; weight: number }> = {
  log_response_time_ms: { kind: 'standardised', weight: 0.5 },
  response_time_missing: { kind: 'fixed', weight: 1 },
  response_time_excess: { kind: 'fixed', weight: 3 },
  log_bytes: { kind: 'standardised', weight: 0.5 },
  bytes_excess: { kind: 'fixed', weight: 1.5 },
  status_3xx: { kind: 'fixed', weight: 1 },
  status_4xx: { kind: 'fixed', weight: 3 },
  status_5xx: { kind: 'fixed', weight: 8 },
  method_post: { kind: 'fixed', weight: 1 },
  method_other: { kind: 'fixed', weight: 2 },
  endpoint_log_frequency: { kind: 'standardised', weight: 0.5 },
  endpoint_unseen: { kind: 'fixed', weight: 3 },
  client_log_request_rate: { kind: 'fixed', weight: 3 },
  client_error_ratio: { kind: 'fixed', weight: 4 },
  client_log_distinct_paths: { kind: 'fixed', weight: 1 },
  agent_bot: { kind: 'fixed', weight: 1 },
  agent_api: { kind: 'fixed', weight: 1 },
  agent_other: { kind: 'fixed', weight: 1 },
  hour_sin: { kind: 'fixed', weight: 0.3 },
  hour_cos: { kind: 'fixed', weight: 0.3 },
  weekday_sin: { kind: 'fixed', weight: 0.3 },
  weekday_cos: { kind: 'fixed', weight: 0.3 },
};

export const FEATURE_WEIGHTS: readonly number[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].weight);
export const FEATURE_KINDS: readonly FeatureKind[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].kind);

/** Requests a client needs before its error ratio counts in full: one 404 is not a pattern. */
const ERROR_RATIO_MIN_REQUESTS = 5;

/** Median log1p(response time ms) (null when no training row had one) and median log1p(bytes). */
export type ResponseProfile = [number | null, number];

/** What feature extraction learns from training rows: endpoint popularity and typical responses. */
export interface FeatureVocabulary {
  /** log10 share of training rows per "METHOD template"; rarer endpoints count as unseen. */
  endpointLogFrequency: Record<string, number>;
  unseenLogFrequency: number;
  /** Per "METHOD template status" seen often enough to trust its medians. */
  exactProfiles: Record<string, ResponseProfile>;
  /** Per "METHOD template": its successful (2xx) responses, or all of them when none succeeded. */
  endpointProfiles: Record<string, ResponseProfile>;
  /**
   * Per status code (and "4xx"-style class): [median log latency offset from the endpoint's
   * successful responses, median log1p bytes]. Error and redirect bodies barely depend on the endpoint.
   */
  statusProfiles: Record<string, ResponseProfile>;
  /** All successful responses. */
  globalProfile: ResponseProfile;
}

/** Endpoints seen fewer times than this in training are "unseen": too rare to have a profile. */
const MIN_ENDPOINT_ROWS = 5;
const MIN_ENDPOINT_SHARE = 0.0002;
/** Nor is an endpoint only one or two clients asked for: a scanner's paths are not the site's endpoints. */
const MIN_ENDPOINT_CLIENTS = 3;
/** Rows an (endpoint, status) pair needs for its own medians. */
const MIN_EXACT_PROFILE_ROWS = 20;

export function endpointKey(event: Pick<LogEvent, 'method' | 'pathTemplate'>): string {
  return `${event.method} ${event.pathTemplate}`;
}

const statusClassKey = (status: number): string => `${Math.floor(status / 100)}xx`;
const isSuccess = (status: number): boolean => status >= 200 && status < 300;

class Samples {
  latency: number[] = [];
  bytes: number[] = [];
  add(event: LogEvent): void {
    if (event.responseTimeMs !== null) this.latency.push(Math.log1p(Math.max(0, event.responseTimeMs)));
    this.bytes.push(Math.log1p(Math.max(0, event.responseBytes)));
  }
  profile(): ResponseProfile {
    return [this.latency.length ? median(this.latency) : null, median(this.bytes)];
  }
}

const samplesFor = (map: Map<string, Samples>, key: string): Samples => {
  let samples = map.get(key);
  if (!samples) {
    samples = new Samples();
    map.set(key, samples);
  }
  return samples;
};

export function fitVocabulary(events: readonly LogEvent[]): FeatureVocabulary {
  const endpointCounts = new Map<string, number>();
  const endpointClients = new Map<string, Set<string>>();
  const exact = new Map<string, Samples>();
  const successes = new Map<string, Samples>();
  const everything = new Map<string, Samples>();
  const global = new Samples();
  for (const event of events) {
    const key = endpointKey(event);
    endpointCounts.set(key, (endpointCounts.get(key) ?? 0) + 1);
    const clients = endpointClients.get(key) ?? new Set<string>();
    if (clients.size < MIN_ENDPOINT_CLIENTS) endpointClients.set(key, clients.add(event.clientIp));
    samplesFor(exact, `${key} ${event.status}`).add(event);
    samplesFor(everything, key).add(event);
    if (isSuccess(event.status)) {
      samplesFor(successes, key).add(event);
      global.add(event);
    }
  }
  const minRows = Math.max(MIN_ENDPOINT_ROWS, MIN_ENDPOINT_SHARE * events.length);
  const endpointLogFrequency: Record<string, number> = {};
  for (const [key, count] of endpointCounts) {
    if (count >= minRows && endpointClients.get(key)!.size >= MIN_ENDPOINT_CLIENTS)
      endpointLogFrequency[key] = Math.log10(count / events.length);
  }
  const endpointProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of everything) {
    if (samples.bytes.length < MIN_ENDPOINT_ROWS) continue;
    const success = successes.get(key);
    endpointProfiles[key] = success && success.bytes.length >= MIN_ENDPOINT_ROWS ? success.profile() : samples.profile();
  }
  const exactProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of exact) if (samples.bytes.length >= MIN_EXACT_PROFILE_ROWS) exactProfiles[key] = samples.profile();

  const globalProfile: ResponseProfile = global.bytes.length ? global.profile() : [null, 0];
  const statusSamples = new Map<string, Samples>();
  for (const event of events) {
    const base = endpointProfiles[endpointKey(event)] ?? globalProfile;
    // Latency is kept as an offset from the endpoint's usual time: a 404 is fast relative to its page.
    const latency = event.responseTimeMs === null || base[0] === null ? null : Math.log1p(Math.max(0, event.responseTimeMs)) - base[0];
    for (const key of [String(event.status), statusClassKey(event.status)]) {
      const samples = samplesFor(statusSamples, key);
      if (latency !== null) samples.latency.push(latency);
      samples.bytes.push(Math.log1p(Math.max(0, event.responseBytes)));
    }
  }
  const statusProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of statusSamples) if (samples.bytes.length >= MIN_ENDPOINT_ROWS) statusProfiles[key] = samples.profile();

  return {
    endpointLogFrequency,
    unseenLogFrequency: Math.log10(0.5 / Math.max(1, events.length)),
    exactProfiles,
    endpointProfiles,
    statusProfiles,
    globalProfile,
  };
}

/** Typical log1p latency and log1p bytes of a response of this endpoint with this status. */
export function expectedResponse(vocabulary: FeatureVocabulary, key: string, status: number): { latency: number | null; bytes: number } {
  const exact = vocabulary.exactProfiles[`${key} ${status}`];
  if (exact) return { latency: exact[0], bytes: exact[1] };
  const base = vocabulary.endpointProfiles[key] ?? vocabulary.globalProfile;
  const byStatus = vocabulary.statusProfiles[String(status)] ?? vocabulary.statusProfiles[statusClassKey(status)];
  const latency = base[0] === null ? null : base[0] + (byStatus?.[0] ?? 0);
  const bytes = isSuccess(status) || !byStatus ? base[1] : byStatus[1];
  return { latency, bytes };
}

/**
 * Where a row's client behaviour comes from: a client window, which records each event first, in
 * order, so a client's behaviour includes the request being scored; or, for training rows sampled
 * from the lakehouse, the statistics recorded per row when they were sampled.
 */
export type ClientSource = ClientWindow | readonly ClientStats[];

/** Features of a batch, row-major (events.length × FEATURE_COUNT). */
export function extractFeatures(events: readonly LogEvent[], clients: ClientSource, vocabulary: FeatureVocabulary): Float32Array {
  if (Array.isArray(clients) && clients.length !== events.length)
    throw new RangeError(`${clients.length} client statistics for ${events.length} events`);
  return featureRows(events, clients, vocabulary).raw;
}

/**
 * extractFeatures plus the scaled rows in the augmented layout [z, 1, ||z||²] the distance
 * product takes (see score.ts), each row scaled right after it is extracted.
 */
export function extractScaledFeatures(
  events: readonly LogEvent[],
  window: ClientWindow,
  vocabulary: FeatureVocabulary,
  scaler: Scaler,
): { raw: Float32Array; augmented: Float32Array } {
  return featureRows(events, window, vocabulary, scalerKernel(scaler)) as { raw: Float32Array; augmented: Float32Array };
}

function featureRows(
  events: readonly LogEvent[],
  clients: ClientSource,
  vocabulary: FeatureVocabulary,
  kernel?: ScalerKernel,
): { raw: Float32Array; augmented?: Float32Array } {
  const lookups = lookupsFor(vocabulary);
  const raw = new Float32Array(events.length * FEATURE_COUNT);
  const augmented = kernel ? new Float32Array(events.length * (FEATURE_COUNT + 2)) : undefined;
  const scratch: Scratch = {
    client: { requests: 0, requestsPerSecond: 0, errorRatio: 0, distinctPaths: 0 },
    second: Number.NaN,
    clock: new Float64Array(4),
  };
  const window = clients instanceof ClientWindow ? clients : undefined;
  const recorded = window ? undefined : (clients as readonly ClientStats[]);
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index]!;
    const client = window ? window.observe(event.clientIp, event.timestampMs, event.status, event.path, scratch.client) : recorded![index]!;
    writeFeatures(event, client, vocabulary, lookups, scratch, raw, index * FEATURE_COUNT);
    kernel?.scaleRowAugmented(raw, index * FEATURE_COUNT, augmented!, index * (FEATURE_COUNT + 2));
  }
  return { raw, augmented };
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const TWO_PI = 2 * Math.PI;

interface EndpointLookup {
  method: string;
  frequency: number | undefined;
  byStatus: Map<number, ExpectedResponse>;
  /** The last status looked up and its expected response: most rows of an endpoint share one status. */
  lastStatus: number;
  lastExpected: ExpectedResponse | undefined;
}

type ExpectedResponse = { latency: number | null; bytes: number };

/**
 * Per-vocabulary caches so the hot loop builds no strings: endpoint by template then method (a
 * template has one or two methods, found by a short scan), expected response by status,
 * user-agent class by agent string. Bounded: cleared when full.
 */
interface Lookups {
  endpoints: Map<string, EndpointLookup[]>;
  endpointCount: number;
  agents: Map<string, AgentClass>;
}

/** Reused across a batch's rows: the client statistics, and the clock features of the last second seen. */
interface Scratch {
  client: ClientStats;
  second: number;
  /** hour_sin, hour_cos, weekday_sin, weekday_cos of `second`. */
  clock: Float64Array;
}

const MAX_CACHED_ENDPOINTS = 50_000;
const MAX_CACHED_AGENTS = 20_000;
const lookupCache = new WeakMap<FeatureVocabulary, Lookups>();

function lookupsFor(vocabulary: FeatureVocabulary): Lookups {
  let lookups = lookupCache.get(vocabulary);
  if (!lookups) {
    lookups = { endpoints: new Map(), endpointCount: 0, agents: new Map() };
    lookupCache.set(vocabulary, lookups);
  }
  return lookups;
}

function endpointLookup(lookups: Lookups, vocabulary: FeatureVocabulary, method: string, template: string): EndpointLookup {
  let byMethod = lookups.endpoints.get(template);
  if (byMethod) {
    for (const entry of byMethod) if (entry.method === method) return entry;
  } else {
    if (lookups.endpointCount >= MAX_CACHED_ENDPOINTS) {
      lookups.endpoints.clear();
      lookups.endpointCount = 0;
    }
    byMethod = [];
    lookups.endpoints.set(template, byMethod);
  }
  const entry: EndpointLookup = {
    method,
    frequency: vocabulary.endpointLogFrequency[`${method} ${template}`],
    byStatus: new Map(),
    lastStatus: -1,
    lastExpected: undefined,
  };
  byMethod.push(entry);
  lookups.endpointCount += 1;
  return entry;
}

function expectedFor(endpoint: EndpointLookup, vocabulary: FeatureVocabulary, event: LogEvent): ExpectedResponse {
  if (endpoint.lastStatus === event.status) return endpoint.lastExpected!;
  let expected = endpoint.byStatus.get(event.status);
  if (!expected) {
    expected = expectedResponse(vocabulary, `${event.method} ${event.pathTemplate}`, event.status);
    endpoint.byStatus.set(event.status, expected);
  }
  endpoint.lastStatus = event.status;
  endpoint.lastExpected = expected;
  return expected;
}

function agentClass(lookups: Lookups, userAgent: string | null): AgentClass {
  if (userAgent === null) return 'other';
  let agent = lookups.agents.get(userAgent);
  if (agent === undefined) {
    if (lookups.agents.size >= MAX_CACHED_AGENTS) lookups.agents.clear();
    agent = classifyUserAgent(userAgent);
    lookups.agents.set(userAgent, agent);
  }
  return agent;
}

function writeFeatures(
  event: LogEvent,
  client: ClientStats,
  vocabulary: FeatureVocabulary,
  lookups: Lookups,
  scratch: Scratch,
  out: Float32Array,
  offset: number,
): void {
  const endpoint = endpointLookup(lookups, vocabulary, event.method, event.pathTemplate);
  const expected = expectedFor(endpoint, vocabulary, event);
  const status = Math.floor(event.status / 100);
  const logBytes = Math.log1p(Math.max(0, event.responseBytes));
  const missing = event.responseTimeMs === null || expected.latency === null;
  // Missing response times (combined logs) are imputed with the endpoint's typical one: neutral, not suspicious.
  const logLatency = missing ? (expected.latency ?? 0) : Math.log1p(Math.max(0, event.responseTimeMs!));
  const frequency = endpoint.frequency;
  const agent = agentClass(lookups, event.userAgent);
  const clock = clockFeatures(scratch, event.timestampMs);

  out[offset] = logLatency;
  out[offset + 1] = missing ? 1 : 0;
  out[offset + 2] = missing ? 0 : logLatency - expected.latency!;
  out[offset + 3] = logBytes;
  out[offset + 4] = logBytes - expected.bytes;
  out[offset + 5] = status === 3 ? 1 : 0;
  out[offset + 6] = status === 4 ? 1 : 0;
  out[offset + 7] = status >= 5 ? 1 : 0;
  out[offset + 8] = event.method === 'POST' ? 1 : 0;
  out[offset + 9] = event.method === 'GET' || event.method === 'POST' ? 0 : 1;
  out[offset + 10] = frequency ?? vocabulary.unseenLogFrequency;
  out[offset + 11] = frequency === undefined ? 1 : 0;
  out[offset + 12] = Math.log1p(client.requestsPerSecond);
  out[offset + 13] = (client.errorRatio * client.requests) / Math.max(client.requests, ERROR_RATIO_MIN_REQUESTS);
  out[offset + 14] = Math.log1p(client.distinctPaths);
  out[offset + 15] = agent === 'bot' ? 1 : 0;
  out[offset + 16] = agent === 'api' ? 1 : 0;
  out[offset + 17] = agent === 'other' ? 1 : 0;
  out[offset + 18] = clock[0]!;
  out[offset + 19] = clock[1]!;
  out[offset + 20] = clock[2]!;
  out[offset + 21] = clock[3]!;
}

/**
 * Hour-of-day and day-of-week on the unit circle, to the second: rows of a batch mostly share
 * their second, so the four sin/cos calls run once per second of traffic rather than per row.
 */
function clockFeatures(scratch: Scratch, timestampMs: number): Float64Array {
  const second = Math.floor(timestampMs / 1000);
  if (second !== scratch.second) {
    scratch.second = second;
    const secondMs = second * 1000;
    const dayMs = ((secondMs % DAY_MS) + DAY_MS) % DAY_MS;
    const hour = dayMs / HOUR_MS;
    // 1970-01-01 was a Thursday (day 4, with Sunday as 0).
    const weekday = ((((Math.floor(secondMs / DAY_MS) + 4) % 7) + 7) % 7) + hour / 24;
    scratch.clock[0] = Math.sin((TWO_PI * hour) / 24);
    scratch.clock[1] = Math.cos((TWO_PI * hour) / 24);
    scratch.clock[2] = Math.sin((TWO_PI * weekday) / 7);
    scratch.clock[3] = Math.cos((TWO_PI * weekday) / 7);
  }
  return scratch.clock;
}

function median(values: number[]): number {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
