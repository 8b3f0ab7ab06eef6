// Feature spec "web-access-v2": turns canonical log rows into numeric vectors for K-means.
// The spec id is stored in every model; a model trained on another spec is refused.
import { ownCopy } from '../common/ownCopy.js';
import type { LogEvent } from '../logs/record.js';
import { ClientWindow, emptyStats, type ClientStats } from './clientWindow.js';
import { emptyScan, SCRIPT_TOKEN, SQL_TOKEN, scanContent, TRAVERSAL_TOKEN, type ContentScan } from './content.js';
import { scalerKernel, type Scaler, type ScalerKernel } from './scaler.js';
import { classifyUserAgent, type AgentClass } from './userAgent.js';

export const FEATURE_SPEC_ID = 'web-access-v2';

export const FEATURE_NAMES = [
  'log_response_time_ms',
  'response_time_missing',
  'response_time_excess',
  'log_bytes',
  'bytes_excess',
  'bytes_excess_unprofiled',
  'status_3xx',
  'status_4xx',
  'status_5xx',
  'method_post',
  'method_other',
  'endpoint_log_frequency',
  'endpoint_unseen',
  'path_prefix_unseen',
  'path_extension_unseen',
  'request_log_length',
  'request_encoded_share',
  'request_special_share',
  'content_sql',
  'content_script',
  'content_traversal',
  'client_log_request_rate',
  'client_log_distinct_paths',
  'client_log_sustained_rate',
  'client_error_ratio',
  'client_not_found_ratio',
  'client_auth_failure_ratio',
  'endpoint_error_excess',
  'site_not_found_excess',
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
 * Which side of a cluster's centre is suspicious along a feature, for the per-feature check and
 * the reasons (ml/score.ts): 1 above it (more errors, a token present, a larger response), -1
 * below it (a rarer endpoint), 0 either (sizes and times, the clock). A known endpoint in a cluster
 * of mostly unknown ones is not an anomaly.
 */
export type FeatureDirection = 1 | -1 | 0;

/** Whether a feature may flag a row by itself (the per-feature check), or only adds to its distance. */
export type FeatureRole = 'alone' | 'distance';

/**
 * Kind, weight and suspicious direction of each feature. Weights say how many units of distance a feature may add:
 * response and client-behaviour deviations carry the anomaly signal and weigh most; absolute
 * sizes and times mostly separate endpoints and weigh less; the time of day only nudges
 * clusters, since traffic at an unusual hour is not an anomaly by itself. The clock features are
 * points on the unit circle, so they keep those units: their spread in training depends only on
 * how much of the week the training rows cover, and a model retrained on a one-day lookback would
 * otherwise stretch the day-of-week axis until every other day of the week looked anomalous.
 */
const FEATURE_DEFINITIONS: Record<FeatureName, { kind: FeatureKind; weight: number; direction: FeatureDirection; role?: FeatureRole }> = {
  log_response_time_ms: { role: 'distance', kind: 'standardised', weight: 0.5, direction: 0 },
  response_time_missing: { role: 'distance', kind: 'fixed', weight: 1, direction: 0 },
  response_time_excess: { kind: 'fixed', weight: 3, direction: 1 },
  log_bytes: { role: 'distance', kind: 'standardised', weight: 0.5, direction: 0 },
  bytes_excess: { kind: 'fixed', weight: 1.5, direction: 1 },
  bytes_excess_unprofiled: { kind: 'fixed', weight: 1, direction: 1 },
  status_3xx: { role: 'distance', kind: 'fixed', weight: 1, direction: 1 },
  status_4xx: { role: 'distance', kind: 'fixed', weight: 3, direction: 1 },
  status_5xx: { kind: 'fixed', weight: 8, direction: 1 },
  method_post: { role: 'distance', kind: 'fixed', weight: 1, direction: 1 },
  method_other: { role: 'distance', kind: 'fixed', weight: 2, direction: 1 },
  endpoint_log_frequency: { role: 'distance', kind: 'standardised', weight: 0.5, direction: -1 },
  endpoint_unseen: { kind: 'fixed', weight: 3, direction: 1 },
  path_prefix_unseen: { kind: 'fixed', weight: 3, direction: 1 },
  path_extension_unseen: { kind: 'fixed', weight: 2, direction: 1 },
  request_log_length: { role: 'distance', kind: 'standardised', weight: 0.5, direction: 1 },
  request_encoded_share: { kind: 'fixed', weight: 3, direction: 1 },
  request_special_share: { kind: 'fixed', weight: 4, direction: 1 },
  content_sql: { kind: 'fixed', weight: 8, direction: 1 },
  content_script: { kind: 'fixed', weight: 8, direction: 1 },
  content_traversal: { kind: 'fixed', weight: 8, direction: 1 },
  client_log_request_rate: { kind: 'fixed', weight: 3, direction: 1 },
  client_log_distinct_paths: { kind: 'fixed', weight: 1, direction: 1 },
  client_log_sustained_rate: { kind: 'fixed', weight: 3, direction: 1 },
  client_error_ratio: { kind: 'fixed', weight: 3, direction: 1 },
  client_not_found_ratio: { kind: 'fixed', weight: 3, direction: 1 },
  client_auth_failure_ratio: { kind: 'fixed', weight: 4, direction: 1 },
  endpoint_error_excess: { kind: 'fixed', weight: 2, direction: 1 },
  site_not_found_excess: { kind: 'fixed', weight: 2, direction: 1 },
  agent_bot: { role: 'distance', kind: 'fixed', weight: 1, direction: 1 },
  agent_api: { role: 'distance', kind: 'fixed', weight: 1, direction: 1 },
  agent_other: { role: 'distance', kind: 'fixed', weight: 1, direction: 1 },
  hour_sin: { role: 'distance', kind: 'fixed', weight: 0.3, direction: 0 },
  hour_cos: { role: 'distance', kind: 'fixed', weight: 0.3, direction: 0 },
  weekday_sin: { role: 'distance', kind: 'fixed', weight: 0.3, direction: 0 },
  weekday_cos: { role: 'distance', kind: 'fixed', weight: 0.3, direction: 0 },
};

export const FEATURE_WEIGHTS: readonly number[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].weight);
export const FEATURE_DIRECTIONS: readonly FeatureDirection[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].direction);
export const FEATURE_ROLES: readonly FeatureRole[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].role ?? 'alone');
export const FEATURE_KINDS: readonly FeatureKind[] = FEATURE_NAMES.map((name) => FEATURE_DEFINITIONS[name].kind);

/**
 * Recent requests a client needs before its ratios count in full: one 404 is not a pattern, and a
 * few are the internet's background (a bot trying /wp-login.php); a scan is dozens. Failed logins
 * count sooner: people rarely fail more than two or three times.
 */
const RATIO_MIN_REQUESTS = 8;
const AUTH_RATIO_MIN_REQUESTS = 5;

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
  /** Per "METHOD .extension": successful responses of files of that type, for endpoints without a profile of their own. */
  extensionProfiles: Record<string, ResponseProfile>;
  /** All successful responses. */
  globalProfile: ResponseProfile;
  /** First path segments of templates the site served (status < 400) to several clients. */
  servedPrefixes: string[];
  /** File extensions (lower case, "" for none) of templates the site served to several clients. */
  servedExtensions: string[];
  /** Per path template with enough rows: its share of responses with status >= 400, smoothed towards the site's. */
  endpointErrorRates: Record<string, number>;
  /** The share of error responses of rows whose template has no rate of its own. */
  otherErrorRate: number;
  /** The site's share of 404 and 410 answers. */
  notFoundShare: number;
}

/** Endpoints seen fewer times than this in training are "unseen": too rare to have a profile. */
const MIN_ENDPOINT_ROWS = 5;
const MIN_ENDPOINT_SHARE = 0.0002;
/** Nor is an endpoint only one or two clients asked for: a scanner's paths are not the site's endpoints. */
const MIN_ENDPOINT_CLIENTS = 3;
/** Rows an (endpoint, status) pair needs for its own medians. */
const MIN_EXACT_PROFILE_ROWS = 20;
/** Distinct clients a prefix or an extension must have been served to, to count as the site's. */
const MIN_SERVED_CLIENTS = 2;
/** Pseudo-rows of the site's error rate an endpoint's own rate is smoothed with. */
const ERROR_RATE_PRIOR_ROWS = 20;

export function endpointKey(event: Pick<LogEvent, 'method' | 'pathTemplate'>): string {
  return `${event.method} ${event.pathTemplate}`;
}

const statusClassKey = (status: number): string => `${Math.floor(status / 100)}xx`;
const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/**
 * Response times and sizes of some rows. Sizes only of responses with a body: a 304, a HEAD or an
 * aborted transfer logs no bytes ("-"), and a median pulled to 0 by them would make every
 * ordinary response look oversized.
 */
class Samples {
  rows = 0;
  latency: number[] = [];
  bytes: number[] = [];
  add(event: LogEvent): void {
    this.rows += 1;
    if (event.responseTimeMs !== null) this.latency.push(Math.log1p(Math.max(0, event.responseTimeMs)));
    if (event.responseBytes > 0) this.bytes.push(Math.log1p(event.responseBytes));
  }
  profile(): ResponseProfile {
    return [this.latency.length ? median(this.latency) : null, this.bytes.length ? median(this.bytes) : 0];
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
  const byExtension = new Map<string, Samples>();
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
      const extension = templateExtension(event.pathTemplate);
      if (extension) samplesFor(byExtension, `${event.method} .${extension}`).add(event);
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
    if (samples.rows < MIN_ENDPOINT_ROWS) continue;
    const success = successes.get(key);
    endpointProfiles[key] = success && success.rows >= MIN_ENDPOINT_ROWS ? success.profile() : samples.profile();
  }
  const exactProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of exact) if (samples.rows >= MIN_EXACT_PROFILE_ROWS) exactProfiles[key] = samples.profile();
  const extensionProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of byExtension) if (samples.rows >= MIN_ENDPOINT_ROWS) extensionProfiles[key] = samples.profile();

  const globalProfile: ResponseProfile = global.rows ? global.profile() : [null, 0];
  const statusSamples = new Map<string, Samples>();
  for (const event of events) {
    const base = endpointProfiles[endpointKey(event)] ?? globalProfile;
    // Latency is kept as an offset from the endpoint's usual time: a 404 is fast relative to its page.
    const latency = event.responseTimeMs === null || base[0] === null ? null : Math.log1p(Math.max(0, event.responseTimeMs)) - base[0];
    for (const key of [String(event.status), statusClassKey(event.status)]) {
      const samples = samplesFor(statusSamples, key);
      samples.rows += 1;
      if (latency !== null) samples.latency.push(latency);
      if (event.responseBytes > 0) samples.bytes.push(Math.log1p(event.responseBytes));
    }
  }
  const statusProfiles: Record<string, ResponseProfile> = {};
  for (const [key, samples] of statusSamples) if (samples.rows >= MIN_ENDPOINT_ROWS) statusProfiles[key] = samples.profile();

  return {
    endpointLogFrequency,
    unseenLogFrequency: Math.log10(0.5 / Math.max(1, events.length)),
    exactProfiles,
    endpointProfiles,
    statusProfiles,
    extensionProfiles,
    globalProfile,
    ...servedVocabulary(events),
    ...errorRates(events),
  };
}

function servedVocabulary(events: readonly LogEvent[]): Pick<FeatureVocabulary, 'servedPrefixes' | 'servedExtensions'> {
  const prefixes = new Map<string, Set<string>>();
  const extensions = new Map<string, Set<string>>();
  const note = (map: Map<string, Set<string>>, key: string, client: string) => {
    const clients = map.get(key) ?? new Set<string>();
    if (clients.size < MIN_SERVED_CLIENTS) map.set(key, clients.add(client));
  };
  for (const event of events) {
    if (event.status >= 400) continue;
    note(prefixes, templatePrefix(event.pathTemplate), event.clientIp);
    note(extensions, templateExtension(event.pathTemplate), event.clientIp);
  }
  const served = (map: Map<string, Set<string>>) =>
    [...map]
      .filter(([, clients]) => clients.size >= MIN_SERVED_CLIENTS)
      .map(([key]) => key)
      .sort();
  return { servedPrefixes: served(prefixes), servedExtensions: served(extensions) };
}

function errorRates(events: readonly LogEvent[]): Pick<FeatureVocabulary, 'endpointErrorRates' | 'otherErrorRate' | 'notFoundShare'> {
  const counts = new Map<string, [number, number]>();
  let errors = 0;
  for (const event of events) {
    const entry = counts.get(event.pathTemplate) ?? [0, 0];
    entry[0] += 1;
    if (event.status >= 400) {
      entry[1] += 1;
      errors += 1;
    }
    counts.set(event.pathTemplate, entry);
  }
  const siteRate = (errors + 1) / (events.length + 2);
  const endpointErrorRates: Record<string, number> = {};
  let otherRows = 0;
  let otherErrors = 0;
  for (const [template, [rows, failed]] of counts) {
    if (rows >= MIN_ENDPOINT_ROWS)
      endpointErrorRates[template] = (failed + ERROR_RATE_PRIOR_ROWS * siteRate) / (rows + ERROR_RATE_PRIOR_ROWS);
    else {
      otherRows += rows;
      otherErrors += failed;
    }
  }
  const notFound = events.filter((event) => event.status === 404 || event.status === 410).length;
  return {
    endpointErrorRates,
    otherErrorRate: (otherErrors + ERROR_RATE_PRIOR_ROWS * siteRate) / (otherRows + ERROR_RATE_PRIOR_ROWS),
    notFoundShare: (notFound + 1) / (events.length + 2),
  };
}

/** First segment of a template ("" for "/"). */
export function templatePrefix(template: string): string {
  const end = template.indexOf('/', 1);
  return template.slice(1, end < 0 ? template.length : end);
}

/** Extension of a template's last segment, lower case: up to 6 letters or digits after its last dot, else "". */
export function templateExtension(template: string): string {
  const slash = template.lastIndexOf('/');
  const dot = template.lastIndexOf('.');
  if (dot <= slash + 1 || template.length - dot - 1 > 6) return '';
  const extension = template.slice(dot + 1).toLowerCase();
  return /^[a-z0-9]+$/.test(extension) ? extension : '';
}

/** Typical log1p latency and log1p bytes of a response of this endpoint with this status. */
export function expectedResponse(
  vocabulary: FeatureVocabulary,
  key: string,
  status: number,
): { latency: number | null; bytes: number; profiled: boolean } {
  const exact = vocabulary.exactProfiles[`${key} ${status}`];
  if (exact) return { latency: exact[0], bytes: exact[1], profiled: true };
  const base = vocabulary.endpointProfiles[key] ?? extensionProfile(vocabulary, key) ?? vocabulary.globalProfile;
  const byStatus = vocabulary.statusProfiles[String(status)] ?? vocabulary.statusProfiles[statusClassKey(status)];
  const latency = base[0] === null ? null : base[0] + (byStatus?.[0] ?? 0);
  // A HEAD request is answered without a body whatever the endpoint's GET returns.
  const bytes = key.startsWith('HEAD ') && !vocabulary.endpointProfiles[key] ? 0 : isSuccess(status) || !byStatus ? base[1] : byStatus[1];
  return { latency, bytes, profiled: vocabulary.endpointProfiles[key] !== undefined };
}

/** The profile of files with the same method and extension as the "METHOD template" key. */
function extensionProfile(vocabulary: FeatureVocabulary, key: string): ResponseProfile | undefined {
  const space = key.indexOf(' ');
  const extension = templateExtension(key.slice(space + 1));
  return extension ? vocabulary.extensionProfiles[`${key.slice(0, space)} .${extension}`] : undefined;
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
  /** Buffers to write into when large enough (a scorer reuses them batch after batch); the results are views of them. */
  reuse?: FeatureBuffers,
): { raw: Float32Array; augmented: Float32Array } {
  return featureRows(events, window, vocabulary, scalerKernel(scaler), reuse) as { raw: Float32Array; augmented: Float32Array };
}

/** A batch's feature rows, raw and scaled; grown as batches need, never shrunk. */
export interface FeatureBuffers {
  raw: Float32Array;
  augmented: Float32Array;
}

function featureRows(
  events: readonly LogEvent[],
  clients: ClientSource,
  vocabulary: FeatureVocabulary,
  kernel?: ScalerKernel,
  reuse?: FeatureBuffers,
): { raw: Float32Array; augmented?: Float32Array } {
  const lookups = lookupsFor(vocabulary);
  let raw: Float32Array;
  let augmented: Float32Array | undefined;
  if (reuse && kernel) {
    // Eleven megabytes a 10,000-row batch: allocating and zeroing them cost a tenth of scoring.
    if (reuse.raw.length < events.length * FEATURE_COUNT) {
      reuse.raw = new Float32Array(events.length * FEATURE_COUNT);
      reuse.augmented = new Float32Array(events.length * (FEATURE_COUNT + 2));
    }
    raw = reuse.raw.subarray(0, events.length * FEATURE_COUNT);
    augmented = reuse.augmented.subarray(0, events.length * (FEATURE_COUNT + 2));
  } else {
    raw = new Float32Array(events.length * FEATURE_COUNT);
    augmented = kernel ? new Float32Array(events.length * (FEATURE_COUNT + 2)) : undefined;
  }
  const scratch: Scratch = {
    client: emptyStats(),
    second: Number.NaN,
    clock: new Float64Array(4),
    scan: emptyScan(),
    queries: lookups.queries,
  };
  const window = clients instanceof ClientWindow ? clients : undefined;
  const recorded = window ? undefined : (clients as readonly ClientStats[]);
  for (let index = 0; index < events.length; index += 1) {
    const event = events[index]!;
    const client = window ? window.observe(event, scratch.client) : recorded![index]!;
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
  template: TemplateLookup;
  frequency: number | undefined;
  byStatus: Map<number, ExpectedResponse>;
  /** The last status looked up and its expected response: most rows of an endpoint share one status. */
  lastStatus: number;
  lastExpected: ExpectedResponse | undefined;
}

type ExpectedResponse = { latency: number | null; bytes: number; profiled: boolean };

/** What a template alone says, computed once per template: the path features and its error baseline. */
interface TemplateLookup {
  methods: EndpointLookup[];
  prefixUnseen: number;
  extensionUnseen: number;
  errorRate: number;
  /**
   * The scan of the first path seen with this template. Paths of one template differ only in
   * segments the template replaced by {id}, {uuid}, {hash}, {email} or {token}, which hold no
   * unusual characters; templates with a {long} or {…} segment are scanned per row.
   */
  pathScan: ContentScan | undefined;
}

/**
 * Per-vocabulary caches so the hot loop builds no strings: template, then endpoint by method (a
 * template has one or two methods, found by a short scan), expected response by status,
 * user-agent class by agent string. Bounded: cleared when full.
 */
interface Lookups {
  templates: Map<string, TemplateLookup>;
  endpointCount: number;
  agents: Map<string, AgentClass>;
  prefixes: Set<string>;
  extensions: Set<string>;
  queries: Map<string, ContentScan>;
}

/** Reused across a batch's rows: the client statistics, the clock features of the last second seen, a content scan. */
interface Scratch {
  client: ClientStats;
  second: number;
  /** hour_sin, hour_cos, weekday_sin, weekday_cos of `second`. */
  clock: Float64Array;
  scan: ContentScan;
  queries: Map<string, ContentScan>;
}

const MAX_CACHED_ENDPOINTS = 50_000;
const MAX_CACHED_AGENTS = 20_000;
const lookupCache = new WeakMap<FeatureVocabulary, Lookups>();

function lookupsFor(vocabulary: FeatureVocabulary): Lookups {
  let lookups = lookupCache.get(vocabulary);
  if (!lookups) {
    lookups = {
      templates: new Map(),
      endpointCount: 0,
      agents: new Map(),
      prefixes: new Set(vocabulary.servedPrefixes),
      extensions: new Set(vocabulary.servedExtensions),
      queries: new Map(),
    };
    lookupCache.set(vocabulary, lookups);
  }
  return lookups;
}

function endpointLookup(lookups: Lookups, vocabulary: FeatureVocabulary, method: string, template: string): EndpointLookup {
  let info = lookups.templates.get(template);
  if (info) {
    for (const entry of info.methods) if (entry.method === method) return entry;
  } else {
    if (lookups.endpointCount >= MAX_CACHED_ENDPOINTS) {
      lookups.templates.clear();
      lookups.endpointCount = 0;
    }
    info = {
      methods: [],
      prefixUnseen: template === '/' || lookups.prefixes.has(templatePrefix(template)) ? 0 : 1,
      extensionUnseen: lookups.extensions.has(templateExtension(template)) ? 0 : 1,
      errorRate: vocabulary.endpointErrorRates[template] ?? vocabulary.otherErrorRate,
      pathScan: undefined,
    };
    lookups.templates.set(template, info);
  }
  const entry: EndpointLookup = {
    method,
    template: info,
    frequency: vocabulary.endpointLogFrequency[`${method} ${template}`],
    byStatus: new Map(),
    lastStatus: -1,
    lastExpected: undefined,
  };
  info.methods.push(entry);
  lookups.endpointCount += 1;
  return entry;
}

/** The content scan of a row's path and query, in `scratch.scan`. */
function scanRequest(event: LogEvent, template: TemplateLookup, scratch: Scratch): ContentScan {
  const scan = scratch.scan;
  let path = template.pathScan;
  if (path === undefined) {
    path = emptyScan();
    scanContent(event.path, path);
    // Per-row scans for templates that hide whole segments ({long}, {…}): a payload can sit there.
    if (!/\{long\}|\{…\}/.test(event.pathTemplate)) template.pathScan = path;
  }
  if (path !== template.pathScan) {
    scan.length = path.length;
    scan.escapes = path.escapes;
    scan.specials = path.specials;
    scan.tokens = path.tokens;
  } else {
    scan.length = event.path.length;
    scan.escapes = path.escapes;
    scan.specials = path.specials;
    scan.tokens = path.tokens;
  }
  if (event.query !== null) addQueryScan(event.query, scratch.queries, scan);
  return scan;
}

/**
 * Query strings repeat (a feed parameter, a campaign tag, a popular search), and scanning one that
 * needs decoding costs a microsecond: scans are cached per query string, bounded.
 */
function addQueryScan(query: string, cache: Map<string, ContentScan>, into: ContentScan): void {
  let scan = cache.get(query);
  if (scan === undefined) {
    if (cache.size >= MAX_CACHED_QUERIES) cache.clear();
    scan = emptyScan();
    scanContent(query, scan);
    cache.set(ownCopy(query), scan);
  }
  into.length += scan.length;
  into.escapes += scan.escapes;
  into.specials += scan.specials;
  into.tokens |= scan.tokens;
}

const MAX_CACHED_QUERIES = 20_000;

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
    lookups.agents.set(ownCopy(userAgent), agent);
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
  const template = endpoint.template;
  const agent = agentClass(lookups, event.userAgent);
  const clock = clockFeatures(scratch, event.timestampMs);
  const content = scanRequest(event, template, scratch);
  const isError = event.status >= 400;
  const recent = Math.max(client.recentRequests, RATIO_MIN_REQUESTS);
  const recentForAuth = Math.max(client.recentRequests, AUTH_RATIO_MIN_REQUESTS);

  out[offset] = logLatency;
  out[offset + 1] = missing ? 1 : 0;
  out[offset + 2] = missing ? 0 : logLatency - expected.latency!;
  out[offset + 3] = logBytes;
  // Against the endpoint's own sizes, or, for an endpoint without a profile, its file type's or the site's.
  out[offset + 4] = expected.profiled ? logBytes - expected.bytes : 0;
  out[offset + 5] = expected.profiled ? 0 : logBytes - expected.bytes;
  out[offset + 6] = status === 3 ? 1 : 0;
  out[offset + 7] = status === 4 ? 1 : 0;
  out[offset + 8] = status >= 5 ? 1 : 0;
  out[offset + 9] = event.method === 'POST' ? 1 : 0;
  out[offset + 10] = event.method === 'GET' || event.method === 'POST' ? 0 : 1;
  out[offset + 11] = frequency ?? vocabulary.unseenLogFrequency;
  out[offset + 12] = frequency === undefined ? 1 : 0;
  out[offset + 13] = template.prefixUnseen;
  out[offset + 14] = template.extensionUnseen;
  out[offset + 15] = logOnePlus(content.length);
  const characters = Math.max(content.length, 1);
  out[offset + 16] = Math.min(1, (3 * content.escapes) / characters);
  out[offset + 17] = Math.min(1, (4 * content.specials) / characters);
  out[offset + 18] = content.tokens & SQL_TOKEN ? 1 : 0;
  out[offset + 19] = content.tokens & SCRIPT_TOKEN ? 1 : 0;
  out[offset + 20] = content.tokens & TRAVERSAL_TOKEN ? 1 : 0;
  out[offset + 21] = Math.log1p(client.requestsPerSecond);
  out[offset + 22] = logOnePlus(client.distinctPaths);
  out[offset + 23] = Math.log1p(client.sustainedRequestsPerSecond);
  out[offset + 24] = client.recentErrors / recent;
  out[offset + 25] = client.recentNotFound / recent;
  out[offset + 26] = client.recentAuthFailures / recentForAuth;
  // An error on an endpoint failing more than it usually does (0 for successful rows), and a 404
  // while the whole site answers more of them than it usually does.
  out[offset + 27] = isError ? countExcess(client.endpointErrors, client.endpointRequests * template.errorRate) : 0;
  out[offset + 28] =
    event.status === 404 || event.status === 410 ? countExcess(client.siteNotFound, client.siteRequests * vocabulary.notFoundShare) : 0;
  out[offset + 29] = agent === 'bot' ? 1 : 0;
  out[offset + 30] = agent === 'api' ? 1 : 0;
  out[offset + 31] = agent === 'other' ? 1 : 0;
  out[offset + 32] = clock[0]!;
  out[offset + 33] = clock[1]!;
  out[offset + 34] = clock[2]!;
  out[offset + 35] = clock[3]!;
}

/** log1p for the small whole numbers most calls get (lengths, path counts) from a table; Math.log1p costs ~25 ns. */
const LOG_ONE_PLUS = Float64Array.from({ length: 4096 }, (_, value) => Math.log1p(value));

function logOnePlus(value: number): number {
  return value < 4096 && (value | 0) === value ? LOG_ONE_PLUS[value]! : Math.log1p(value);
}

/**
 * E-folds by which a recent count exceeds what the baseline predicts, beyond Poisson noise (three
 * standard deviations): a quiet site's burst of errors stands out, a busy site's hourly wobble does not.
 */
function countExcess(observed: number, expected: number): number {
  return Math.max(0, Math.log((observed + 1) / (expected + 1 + 3 * Math.sqrt(expected))));
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
