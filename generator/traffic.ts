// A seeded, endless stream of realistic web-access logs with labeled anomaly episodes.
// Pure: no I/O, no wall clock; simulated time starts at startTimeMs and advances with the rate.
import type { LogEvent } from '../logs/record.js';
import { pathTemplate } from '../logs/pathTemplate.js';
import { createClientPopulation, type Client } from './clients.js';
import { createRandom, weightedPicker, type Random, type WeightedPicker } from '../common/random.js';
import {
  EPISODE_LOGS,
  SCENARIO_NAMES,
  bodyBytes,
  round,
  startEpisode,
  type Episode,
  type ScenarioName,
  type TrafficLabel,
} from './scenarios.js';
import { ENDPOINTS, type ClientKind, type Endpoint } from './site.js';

export interface GeneratedLog extends LogEvent {
  label: TrafficLabel;
}

export interface TrafficOptions {
  seed: number;
  /**
   * Seeds the site's client population (addresses, agents, habits; default: seed). The same
   * population with another seed is the same site on another day: what a model learns of a site
   * before it scores the site's later traffic.
   */
  populationSeed?: number;
  startTimeMs: number;
  /** Average normal requests per second; the hour of day and day of week shape it. */
  ratePerSecond: number;
  /** Fraction of logs that belong to anomaly scenarios (default 0.02). */
  anomalyRate?: number;
  /** Scenarios to inject (default: all). */
  scenarios?: readonly ScenarioName[];
  /**
   * Instead of random episodes at anomalyRate: exactly these, in this order, started at even
   * spacings (with jitter) over the first 70% of `normalLogs` normal logs, each at least fast
   * enough to finish well within the run (labeled training files; see trainingData.ts).
   */
  plannedEpisodes?: { episodes: readonly PlannedEpisode[]; normalLogs: number };
}

/** One episode of a plan: its scenario and how many anomalous logs it emits. */
export interface PlannedEpisode {
  scenario: ScenarioName;
  logs: number;
}

export interface TrafficGenerator {
  next(): GeneratedLog;
  /** Simulated time of the last log returned, epoch ms. */
  readonly currentTimeMs: number;
}

export const DEFAULT_ANOMALY_RATE = 0.02;
const SITE_ORIGIN = 'https://shop.example.com';

export function createTrafficGenerator(options: TrafficOptions): TrafficGenerator {
  const anomalyRate = options.anomalyRate ?? DEFAULT_ANOMALY_RATE;
  const scenarios = options.scenarios ?? SCENARIO_NAMES;
  if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${options.ratePerSecond}`);
  if (!(anomalyRate >= 0 && anomalyRate < 1)) throw new RangeError(`anomalyRate must be in [0, 1), got ${anomalyRate}`);

  const random = createRandom(options.seed);
  const population = createClientPopulation(options.populationSeed ?? options.seed, {
    peakRatePerSecond: options.ratePerSecond * PEAK_TRAFFIC_SHAPE,
  });
  const endpointPickers = pickersByKind();
  let normalTimeMs = options.startTimeMs;
  let currentTimeMs = options.startTimeMs;
  // Episodes may overlap, as independent incidents do.
  const episodes: { episode: Episode; nextTimeMs: number }[] = [];
  const episodeSize = meanEpisodeLogs(scenarios);
  const injecting = anomalyRate > 0 && scenarios.length > 0;
  const plan = options.plannedEpisodes;
  let planned = 0;
  // Planned episode k starts after (k + U(0.25, 0.75)) spacings of normal logs: in order, all
  // within the first 70% of the run.
  const plannedStarts = plan
    ? plan.episodes.map((_, index) => ((0.7 * plan.normalLogs) / plan.episodes.length) * (index + 0.25 + 0.5 * random.next()))
    : [];
  let normalEmitted = 0;
  const plannedGap = (): number =>
    planned < plannedStarts.length ? Math.max(1, plannedStarts[planned]! - normalEmitted) : Number.POSITIVE_INFINITY;
  let normalLogsUntilEpisode = plan
    ? plannedGap()
    : injecting
      ? gapBeforeEpisode(random, anomalyRate, episodeSize)
      : Number.POSITIVE_INFINITY;

  const normalRateAt = (timeMs: number) => options.ratePerSecond * trafficShape(timeMs);

  const emitNormal = (): GeneratedLog => {
    const timeMs = normalTimeMs;
    const load = trafficShape(timeMs);
    normalTimeMs += random.exponential(1000 / (options.ratePerSecond * load));
    normalLogsUntilEpisode -= 1;
    normalEmitted += 1;
    if (normalLogsUntilEpisode <= 0) {
      const next = plan?.episodes[planned];
      const episode = startEpisode(next?.scenario ?? random.pick(scenarios), {
        random,
        population,
        normalRatePerSecond: normalRateAt(timeMs),
      });
      if (next && plan) {
        episode.remaining = next.logs;
        planned += 1;
        // A slow scenario (an oversized response every second or two) speeds up only as much as
        // it must to end within 60% of the time the run has left.
        const secondsLeft = (plan.normalLogs - normalEmitted) / Math.max(1e-9, normalRateAt(timeMs));
        episode.ratePerSecond = Math.max(episode.ratePerSecond, next.logs / Math.max(1, 0.6 * secondsLeft));
      }
      episodes.push({ episode, nextTimeMs: timeMs + random.exponential(1000 / episode.ratePerSecond) });
      normalLogsUntilEpisode = plan ? plannedGap() : gapBeforeEpisode(random, anomalyRate, episodeSize);
    }
    return normalLog(random, population.pick(random, options.ratePerSecond * load), endpointPickers, timeMs, load);
  };

  const emitAnomaly = (index: number): GeneratedLog => {
    const active = episodes[index]!;
    const timeMs = active.nextTimeMs;
    const request = active.episode.request(random);
    active.episode.remaining -= 1;
    active.nextTimeMs += random.exponential(1000 / active.episode.ratePerSecond);
    if (active.episode.remaining <= 0) episodes.splice(index, 1);
    return { timestampMs: Math.floor(timeMs), ...request, pathTemplate: pathTemplate(request.path), label: active.episode.scenario };
  };

  return {
    next() {
      let earliest = -1;
      let earliestTimeMs = normalTimeMs;
      episodes.forEach((active, index) => {
        if (active.nextTimeMs < earliestTimeMs) {
          earliest = index;
          earliestTimeMs = active.nextTimeMs;
        }
      });
      const log = earliest >= 0 ? emitAnomaly(earliest) : emitNormal();
      currentTimeMs = log.timestampMs;
      return log;
    },
    get currentTimeMs() {
      return currentTimeMs;
    },
  };
}

/**
 * Normal logs between episode starts so that anomalous logs make up `anomalyRate` of all logs on
 * average: each cycle adds G normal and n anomalous logs (n the mean episode size), so G = n (1 - r) / r.
 */
function gapBeforeEpisode(random: Random, anomalyRate: number, meanEpisodeLogs: number): number {
  return random.exponential((meanEpisodeLogs * (1 - anomalyRate)) / anomalyRate);
}

function meanEpisodeLogs(scenarios: readonly ScenarioName[]): number {
  const total = scenarios.reduce((sum, scenario) => sum + (EPISODE_LOGS[scenario][0] + EPISODE_LOGS[scenario][1]) / 2, 0);
  return total / Math.max(1, scenarios.length);
}

/**
 * Traffic multiplier by time: a daily wave peaking mid-afternoon UTC and quieter weekends.
 * Averages about 1 over a week, so ratePerSecond stays the mean rate.
 */
export function trafficShape(timeMs: number): number {
  const date = new Date(timeMs);
  const hour = date.getUTCHours() + date.getUTCMinutes() / 60;
  const daily = 1 + DAILY_SWING * Math.cos((2 * Math.PI * (hour - 14)) / 24);
  const day = date.getUTCDay();
  const weekly = day === 0 ? 0.8 : day === 6 ? 0.85 : WEEKDAY_FACTOR;
  return daily * weekly;
}

const DAILY_SWING = 0.55;
const WEEKDAY_FACTOR = 1.07;
/** The largest value trafficShape takes: a weekday at 14:00 UTC. */
export const PEAK_TRAFFIC_SHAPE = (1 + DAILY_SWING) * WEEKDAY_FACTOR;

function pickersByKind(): Record<ClientKind, WeightedPicker> {
  const forKind = (kind: ClientKind) => weightedPicker(ENDPOINTS.map((endpoint) => endpoint.weights[kind]));
  return { browser: forKind('browser'), bot: forKind('bot'), api: forKind('api') };
}

function normalLog(
  random: Random,
  client: Client,
  pickers: Record<ClientKind, WeightedPicker>,
  timeMs: number,
  load: number,
): GeneratedLog {
  const endpoint: Endpoint = ENDPOINTS[pickers[client.kind].pick(random)]!;
  const { path, query } = endpoint.target(random);
  const status = endpoint.status(random, client.kind);
  // Busy hours are a little slower.
  const latencyMs = random.logNormal(endpoint.latencyMedianMs, endpoint.latencySigma) * (0.85 + 0.15 * load);
  const { responseTimeMs, responseBytes } = shapeByStatus(status, latencyMs, bodyBytes(endpoint, random), random);
  return {
    timestampMs: Math.floor(timeMs),
    clientIp: client.ip,
    method: endpoint.method,
    path,
    query,
    pathTemplate: pathTemplate(path),
    status,
    responseTimeMs: round(responseTimeMs),
    responseBytes,
    referrer: client.kind === 'browser' ? browserReferrer(random) : null,
    userAgent: client.userAgent,
    label: 'normal',
  };
}

/** Non-200 responses are small and fast: not-modified has no body, errors are short pages. */
function shapeByStatus(
  status: number,
  latencyMs: number,
  bytes: number,
  random: Random,
): { responseTimeMs: number; responseBytes: number } {
  if (status === 304) return { responseTimeMs: latencyMs * 0.4, responseBytes: 0 };
  if (status === 301 || status === 302) return { responseTimeMs: latencyMs * 0.5, responseBytes: Math.round(random.logNormal(230, 0.1)) };
  if (status === 404) return { responseTimeMs: latencyMs * 0.6, responseBytes: Math.round(random.logNormal(1_800, 0.1)) };
  if (status === 400 || status === 401) return { responseTimeMs: latencyMs, responseBytes: Math.round(random.logNormal(450, 0.2)) };
  if (status >= 500) return { responseTimeMs: latencyMs * 1.5, responseBytes: Math.round(random.logNormal(400, 0.2)) };
  return { responseTimeMs: latencyMs, responseBytes: bytes };
}

const REFERRER_PAGES = ['/', '/products', '/category/shoes', '/category/jackets', '/search?q=boots', '/cart', '/blog'] as const;

function browserReferrer(random: Random): string | null {
  const roll = random.next();
  if (roll < 0.65) return `${SITE_ORIGIN}${random.pick(REFERRER_PAGES)}`;
  if (roll < 0.8) return random.pick(['https://www.google.com/', 'https://www.bing.com/', 'https://duckduckgo.com/']);
  return null;
}
