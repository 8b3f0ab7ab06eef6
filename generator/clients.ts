// The client population: browsers, crawlers and API clients with heavy-tailed activity,
// so that a few addresses make many requests and most make a handful.
import { createRandom, weightedPicker, type Random, type WeightedPicker } from './random.js';
import { API_USER_AGENTS, BROWSER_USER_AGENTS, CRAWLERS, type ClientKind } from './site.js';

export interface Client {
  ip: string;
  kind: ClientKind;
  userAgent: string;
}

export interface ClientPopulation {
  clients: readonly Client[];
  /** Draws a client in proportion to its activity. */
  pick(random: Random): Client;
}

const DEFAULT_SIZE = 20_000;
/** Zipf-Mandelbrot activity (rank + offset)^-exponent: a long tail, but no single address above ~2% of traffic. */
const ACTIVITY_EXPONENT = 1.1;
const ACTIVITY_RANK_OFFSET = 10;

export function createClientPopulation(seed: number, size = DEFAULT_SIZE): ClientPopulation {
  const random = createRandom(seed ^ 0x5eed_c11e);
  const clients: Client[] = [];
  const weights: number[] = [];
  const usedIps = new Set<string>();
  for (let rank = 1; rank <= size; rank += 1) {
    const roll = random.next();
    const kind: ClientKind = roll < 0.03 ? 'bot' : roll < 0.11 ? 'api' : 'browser';
    let client: Client;
    do client = makeClient(kind, random);
    while (usedIps.has(client.ip));
    usedIps.add(client.ip);
    clients.push(client);
    // Crawlers and integrations are busier than people; the rank sets the long tail.
    const kindFactor = kind === 'bot' ? 4 : kind === 'api' ? 2 : 1;
    weights.push(kindFactor / (rank + ACTIVITY_RANK_OFFSET) ** ACTIVITY_EXPONENT);
  }
  const picker: WeightedPicker = weightedPicker(weights);
  return { clients, pick: (draw) => clients[picker.pick(draw)]! };
}

function makeClient(kind: ClientKind, random: Random): Client {
  if (kind === 'bot') {
    const crawler = random.pick(CRAWLERS);
    return { ip: `${crawler.network}.${random.int(1, 254)}`, kind, userAgent: crawler.userAgent };
  }
  if (kind === 'api') {
    const cloud = random.pick(['34', '35', '52', '3', '18', '13'] as const);
    return { ip: `${cloud}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`, kind, userAgent: random.pick(API_USER_AGENTS) };
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
