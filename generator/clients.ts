// The client population: browsers, crawlers and API clients with heavy-tailed activity,
// so that a few addresses make many requests and most make a handful.
import { createRandom, weightedPicker, type Random, type WeightedPicker } from '../common/random.js';
import { API_USER_AGENTS, BROWSER_USER_AGENTS, CRAWLERS, type ClientKind } from './site.js';

export interface Client {
  ip: string;
  kind: ClientKind;
  userAgent: string;
}

export interface ClientPopulation {
  /** One copy of the population, in the order clients come online as traffic grows. */
  clients: readonly Client[];
  /**
   * A client for a normal request while the site serves `ratePerSecond` in all (default: its
   * peak): one of the clients online at that rate, in proportion to its activity.
   */
  pick(random: Random, ratePerSecond?: number): Client;
}

export interface PopulationOptions {
  /** Clients in one copy of the population (default 20,000). */
  size?: number;
  /** The highest total rate the population serves (default COPY_RATE_PER_SECOND); sets how many copies there are. */
  peakRatePerSecond?: number;
}

const DEFAULT_SIZE = 20_000;
/**
 * Requests per second one copy of the population sends with all its clients online. A site serving
 * more has more copies (the same mix of clients at other addresses), and a site serving less at
 * some hour has fewer clients online, so a client's own request rate never depends on the site's
 * total: more traffic means more clients, as on a real site, not busier ones.
 */
export const COPY_RATE_PER_SECOND = 50;
/** Zipf-Mandelbrot activity (rank + offset)^-exponent: a long tail, but no single address above ~2% of traffic. */
const ACTIVITY_EXPONENT = 1.1;
const ACTIVITY_RANK_OFFSET = 10;

export function createClientPopulation(seed: number, options: PopulationOptions = {}): ClientPopulation {
  const size = options.size ?? DEFAULT_SIZE;
  const random = createRandom(seed ^ 0x5eed_c11e);
  const byRank: Client[] = [];
  const weights: number[] = [];
  const usedIps = new Set<string>();
  for (let rank = 1; rank <= size; rank += 1) {
    const roll = random.next();
    const kind: ClientKind = roll < 0.03 ? 'bot' : roll < 0.11 ? 'api' : 'browser';
    let client: Client;
    do client = makeClient(kind, random);
    while (usedIps.has(client.ip));
    usedIps.add(client.ip);
    byRank.push(client);
    // Crawlers and integrations are busier than people; the rank sets the long tail.
    const kindFactor = kind === 'bot' ? 4 : kind === 'api' ? 2 : 1;
    weights.push(kindFactor / (rank + ACTIVITY_RANK_OFFSET) ** ACTIVITY_EXPONENT);
  }
  // Clients come online in a random order, unrelated to how busy they are.
  const onlineOrder = shuffledIndices(size, random);
  const clients = onlineOrder.map((index) => byRank[index]!);
  const picker: WeightedPicker = weightedPicker(onlineOrder.map((index) => weights[index]!));
  const copies = Math.max(1, Math.ceil((options.peakRatePerSecond ?? COPY_RATE_PER_SECOND) / COPY_RATE_PER_SECOND));
  return {
    clients,
    pick(draw, ratePerSecond = copies * COPY_RATE_PER_SECOND) {
      const online = Math.min(size, Math.max(1, Math.ceil((size * ratePerSecond) / (copies * COPY_RATE_PER_SECOND))));
      const index = picker.pick(draw, online);
      const copy = copies > 1 ? draw.int(0, copies - 1) : 0;
      return copy === 0 ? clients[index]! : copyOf(clients[index]!, seed, copy, index);
    },
  };
}

/** The client at `index` in another copy of the population: same kind, its own address and agent. */
function copyOf(client: Client, seed: number, copy: number, index: number): Client {
  const random = createRandom((seed ^ Math.imul(copy, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  return makeClient(client.kind, random);
}

function shuffledIndices(size: number, random: Random): number[] {
  const indices = Array.from({ length: size }, (_, index) => index);
  for (let index = size - 1; index > 0; index -= 1) {
    const other = random.int(0, index);
    [indices[index], indices[other]] = [indices[other]!, indices[index]!];
  }
  return indices;
}

function makeClient(kind: ClientKind, random: Random): Client {
  if (kind === 'bot') {
    const crawler = random.pick(CRAWLERS);
    return { ip: `${crawler.network}.${random.int(1, 254)}`, kind, userAgent: crawler.userAgent };
  }
  if (kind === 'api') {
    const cloud = random.pick(['34', '35', '52', '3', '18', '13'] as const);
    return {
      ip: `${cloud}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`,
      kind,
      userAgent: random.pick(API_USER_AGENTS),
    };
  }
  return { ip: publicAddress(random), kind, userAgent: random.pick(BROWSER_USER_AGENTS) };
}

/** A residential-looking address: IPv4 outside private and reserved ranges, a few IPv6. */
export function publicAddress(random: Random): string {
  if (random.chance(0.06)) {
    const group = () => random.int(0, 0xffff).toString(16);
    return `2a02:${group()}:${group()}:${group()}::${group()}`;
  }
  for (;;) {
    const first = random.int(1, 223);
    if ([10, 127, 100, 169, 172, 192, 198, 203].includes(first)) continue;
    return `${first}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
  }
}
