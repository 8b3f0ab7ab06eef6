// Labeled anomaly scenarios. Each runs as an episode: a burst of anomalous requests over a
// stretch of time, interleaved with normal traffic, the way real incidents look in logs.
import type { ClientPopulation } from './clients.js';
import { publicAddress } from './clients.js';
import type { Random } from '../common/random.js';
import { BROWSER_USER_AGENTS, ENDPOINTS, SCANNER_USER_AGENTS, SCAN_PATHS, type Endpoint } from './site.js';

export const SCENARIO_NAMES = [
  'latency_spike',
  'error_burst',
  'path_scan',
  'request_flood',
  'oversized_response',
  'credential_stuffing',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];
export type TrafficLabel = 'normal' | ScenarioName;

/** Anomalous logs per episode, [min, max]. */
export const EPISODE_LOGS: Record<ScenarioName, readonly [number, number]> = {
  latency_spike: [40, 200],
  error_burst: [30, 150],
  path_scan: [60, 300],
  request_flood: [200, 800],
  oversized_response: [5, 30],
  credential_stuffing: [80, 400],
};

export function isScenarioName(value: string): value is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(value);
}

/** The request fields an episode decides; the traffic generator adds the time and the path template. */
export interface AnomalousRequest {
  clientIp: string;
  method: string;
  path: string;
  query: string | null;
  status: number;
  responseTimeMs: number;
  responseBytes: number;
  referrer: string | null;
  userAgent: string | null;
}

export interface Episode {
  scenario: ScenarioName;
  /** Anomalous requests per second while the episode runs. */
  ratePerSecond: number;
  /** Anomalous requests the episode still has to emit. */
  remaining: number;
  request(random: Random): AnomalousRequest;
}

export interface EpisodeContext {
  random: Random;
  population: ClientPopulation;
  /** Current normal request rate, requests per second. */
  normalRatePerSecond: number;
}

/** Endpoints an incident can hit: dynamic ones, where latency and errors come from the application. */
const DYNAMIC_ENDPOINTS = ENDPOINTS.filter(
  (endpoint) => endpoint.latencyMedianMs >= 15 && endpoint.weights.browser + endpoint.weights.api >= 4,
);
const EXPORT_TARGETS = [
  { path: '/api/v1/orders/export', query: 'format=csv&since=2019-01-01' },
  { path: '/api/v1/products', query: 'limit=1000000' },
  { path: '/account/orders', query: 'export=json&all=true' },
  { path: '/api/v1/customers', query: 'page_size=500000' },
] as const;
const FLOOD_TARGETS = [
  { path: '/', query: null },
  { path: '/search', query: 'q=a' },
  { path: '/api/v1/products', query: null },
  { path: '/products/1001', query: null },
] as const;

export function startEpisode(scenario: ScenarioName, context: EpisodeContext): Episode {
  const { random, population, normalRatePerSecond } = context;
  switch (scenario) {
    case 'latency_spike': {
      const endpoint = random.pick(DYNAMIC_ENDPOINTS);
      const slowdown = 12 + 30 * random.next();
      return episode(scenario, Math.max(1, 0.15 * normalRatePerSecond), episodeLogs(random, 'latency_spike'), () => {
        const client = population.pick(random);
        const target = endpoint.target(random);
        return {
          clientIp: client.ip,
          method: endpoint.method,
          ...target,
          status: 200,
          responseTimeMs: round(random.logNormal(endpoint.latencyMedianMs * slowdown, 0.35)),
          responseBytes: bodyBytes(endpoint, random),
          referrer: null,
          userAgent: client.userAgent,
        };
      });
    }
    case 'error_burst': {
      const endpoint = random.pick(DYNAMIC_ENDPOINTS);
      const failure = random.pick([500, 502, 503, 504] as const);
      return episode(scenario, Math.max(1, 0.12 * normalRatePerSecond), episodeLogs(random, 'error_burst'), () => {
        const client = population.pick(random);
        const status = random.chance(0.85) ? failure : random.pick([500, 502, 503, 504] as const);
        return {
          clientIp: client.ip,
          method: endpoint.method,
          ...endpoint.target(random),
          status,
          // A gateway timeout waits for the upstream; a refused upstream fails at once.
          responseTimeMs: round(
            status === 504
              ? random.logNormal(30_000, 0.05)
              : status === 500
                ? random.logNormal(endpoint.latencyMedianMs, 0.5)
                : random.logNormal(3, 0.4),
          ),
          responseBytes: Math.round(random.logNormal(status === 500 ? 420 : 160, 0.15)),
          referrer: null,
          userAgent: client.userAgent,
        };
      });
    }
    case 'path_scan': {
      const ip = random.chance(0.5) ? publicAddress(random) : `45.${random.int(128, 159)}.${random.int(0, 255)}.${random.int(1, 254)}`;
      const userAgent = random.pick(SCANNER_USER_AGENTS);
      return episode(scenario, 3 + 12 * random.next(), episodeLogs(random, 'path_scan'), () => {
        const probe = random.pick(SCAN_PATHS);
        const status = random.chance(0.85) ? 404 : random.chance(0.6) ? 403 : 400;
        return {
          clientIp: ip,
          method: random.chance(0.9) ? 'GET' : 'POST',
          path: probe,
          query: null,
          status,
          responseTimeMs: round(random.logNormal(6, 0.4)),
          responseBytes: Math.round(random.logNormal(status === 404 ? 1_800 : 300, 0.1)),
          referrer: null,
          userAgent,
        };
      });
    }
    case 'request_flood': {
      const ip = publicAddress(random);
      const userAgent = random.chance(0.5)
        ? random.pick(BROWSER_USER_AGENTS)
        : random.pick(['Go-http-client/1.1', 'python-aiohttp/3.9.5', null]);
      const target = random.pick(FLOOD_TARGETS);
      return episode(scenario, Math.max(40, 4 * normalRatePerSecond) * (1 + random.next()), episodeLogs(random, 'request_flood'), () => {
        const overwhelmed = random.chance(0.1);
        return {
          clientIp: ip,
          method: 'GET',
          ...target,
          status: overwhelmed ? random.pick([429, 503] as const) : 200,
          responseTimeMs: round(overwhelmed ? random.logNormal(2, 0.3) : random.logNormal(60, 0.5)),
          responseBytes: overwhelmed ? Math.round(random.logNormal(180, 0.1)) : Math.round(random.logNormal(20_000, 0.3)),
          referrer: null,
          userAgent,
        };
      });
    }
    case 'oversized_response': {
      const client = population.clients.find((candidate) => candidate.kind === 'api' && random.chance(0.2)) ?? population.pick(random);
      return episode(scenario, 0.5 + 1.5 * random.next(), episodeLogs(random, 'oversized_response'), () => {
        const target = random.pick(EXPORT_TARGETS);
        const responseBytes = Math.round(random.logNormal(250_000_000, 0.7));
        return {
          clientIp: client.ip,
          method: 'GET',
          ...target,
          status: 200,
          // Streaming hundreds of megabytes takes seconds at ~50 MB/s.
          responseTimeMs: round(responseBytes / 50_000 + random.logNormal(200, 0.3)),
          responseBytes,
          referrer: null,
          userAgent: client.userAgent,
        };
      });
    }
    case 'credential_stuffing': {
      const ip = publicAddress(random);
      const rotateAgents = random.chance(0.6);
      const fixedAgent = random.pick([
        'python-requests/2.31.0',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
        'okhttp/3.14.9',
      ]);
      return episode(scenario, 3 + 9 * random.next(), episodeLogs(random, 'credential_stuffing'), () => {
        const roll = random.next();
        const status = roll < 0.93 ? 401 : roll < 0.98 ? 302 : 429;
        return {
          clientIp: ip,
          method: 'POST',
          path: '/login',
          query: null,
          status,
          responseTimeMs: round(random.logNormal(status === 429 ? 3 : 180, 0.3)),
          responseBytes: Math.round(random.logNormal(600, 0.2)),
          referrer: null,
          userAgent: rotateAgents ? random.pick(BROWSER_USER_AGENTS) : fixedAgent,
        };
      });
    }
  }
}

function episodeLogs(random: Random, scenario: ScenarioName): number {
  const [min, max] = EPISODE_LOGS[scenario];
  return random.int(min, max);
}

function episode(scenario: ScenarioName, ratePerSecond: number, count: number, request: () => AnomalousRequest): Episode {
  return { scenario, ratePerSecond, remaining: count, request: () => request() };
}

export function bodyBytes(endpoint: Endpoint, random: Random): number {
  return Math.max(0, Math.round(random.logNormal(endpoint.bytesMedian, endpoint.bytesSigma)));
}

export const round = (value: number): number => Math.round(value * 10) / 10;
