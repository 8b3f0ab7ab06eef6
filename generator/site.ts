// The simulated shop: its endpoints with per-endpoint latency, size and status distributions,
// and the user agents of browsers, crawlers and API clients that visit it.
import type { Random } from '../common/random.js';

export type ClientKind = 'browser' | 'bot' | 'api';

export interface RequestTarget {
  path: string;
  query: string | null;
}

export interface Endpoint {
  method: string;
  /** Builds a concrete request path (and query) for this endpoint. */
  target: (random: Random) => RequestTarget;
  /** Median response time (ms) and log-space spread of a successful response. */
  latencyMedianMs: number;
  latencySigma: number;
  /** Median body size (bytes) and log-space spread of a successful response. */
  bytesMedian: number;
  bytesSigma: number;
  /** Relative popularity per client kind; 0 means that kind never calls it. */
  weights: Record<ClientKind, number>;
  /** Status of a normal response. */
  status: (random: Random, kind: ClientKind) => number;
}

const BUILD = '3f9c2a7d41be08c6';
const CATEGORIES = ['shoes', 'jackets', 'bags', 'watches', 'outdoor', 'kids', 'sale', 'accessories'] as const;
const BLOG_POSTS = [
  'choosing-running-shoes',
  'winter-layering-guide',
  'care-for-leather',
  'packing-for-hikes',
  'gift-ideas',
  'size-guide',
] as const;
const SEARCH_TERMS = [
  'boots',
  'rain jacket',
  'backpack',
  'sneakers',
  'wool socks',
  'smart watch',
  'gloves',
  'tent',
  'running',
  'leather bag',
] as const;

const productId = (random: Random): number => Math.floor(1000 + 9000 * random.next() ** 2); // popular products have low ids
const fixed = (path: string) => (): RequestTarget => ({ path, query: null });
const searchQuery = (random: Random): string =>
  `q=${encodeURIComponent(random.pick(SEARCH_TERMS)).replace(/%20/g, '+')}${random.chance(0.2) ? `&page=${random.int(2, 5)}` : ''}`;

/** Pages mostly succeed; a few redirect, a few are missing, server errors are rare. */
function pageStatus(random: Random, kind: ClientKind): number {
  const roll = random.next();
  const notFound = kind === 'bot' ? 0.03 : 0.006;
  if (roll < notFound) return 404;
  if (roll < notFound + 0.01) return random.chance(0.5) ? 301 : 302;
  if (roll < notFound + 0.01 + 0.0005) return 500;
  return 200;
}

function staticStatus(random: Random): number {
  const roll = random.next();
  if (roll < 0.25) return 304;
  if (roll < 0.253) return 404;
  return 200;
}

function apiStatus(random: Random, _kind: ClientKind, created = false): number {
  const roll = random.next();
  if (roll < 0.008) return 400;
  if (roll < 0.014) return 404;
  if (roll < 0.0148) return random.chance(0.6) ? 500 : 503;
  return created ? 201 : 200;
}

const page = (
  target: (random: Random) => RequestTarget,
  latencyMedianMs: number,
  bytesMedian: number,
  weights: Partial<Record<ClientKind, number>>,
): Endpoint => ({
  method: 'GET',
  target,
  latencyMedianMs,
  latencySigma: 0.45,
  bytesMedian,
  bytesSigma: 0.25,
  weights: { browser: 0, bot: 0, api: 0, ...weights },
  status: pageStatus,
});

const asset = (path: string, bytesMedian: number, weight: number): Endpoint => ({
  method: 'GET',
  target: fixed(path),
  latencyMedianMs: 4,
  latencySigma: 0.5,
  bytesMedian,
  bytesSigma: 0.05,
  weights: { browser: weight, bot: weight * 0.05, api: 0 },
  status: (random) => staticStatus(random),
});

const api = (
  method: string,
  target: (random: Random) => RequestTarget,
  latencyMedianMs: number,
  bytesMedian: number,
  weights: Partial<Record<ClientKind, number>>,
  created = false,
): Endpoint => ({
  method,
  target,
  latencyMedianMs,
  latencySigma: 0.5,
  bytesMedian,
  bytesSigma: 0.4,
  weights: { browser: 0, bot: 0, api: 0, ...weights },
  status: (random, kind) => apiStatus(random, kind, created),
});

export const ENDPOINTS: readonly Endpoint[] = [
  page(fixed('/'), 45, 18_000, { browser: 60, bot: 10 }),
  page(fixed('/about'), 30, 9_000, { browser: 3, bot: 3 }),
  page(fixed('/contact'), 30, 7_000, { browser: 2, bot: 2 }),
  page(fixed('/help'), 35, 11_000, { browser: 4, bot: 3 }),
  page(fixed('/products'), 80, 42_000, { browser: 30, bot: 8 }),
  page((random) => ({ path: `/products/${productId(random)}`, query: null }), 70, 35_000, { browser: 80, bot: 40 }),
  page(
    (random) => ({ path: `/products/${productId(random)}/reviews`, query: random.chance(0.3) ? `page=${random.int(2, 6)}` : null }),
    90,
    22_000,
    { browser: 12, bot: 10 },
  ),
  page((random) => ({ path: `/category/${random.pick(CATEGORIES)}`, query: random.chance(0.25) ? 'sort=price' : null }), 95, 38_000, {
    browser: 35,
    bot: 15,
  }),
  page((random) => ({ path: '/search', query: searchQuery(random) }), 160, 30_000, { browser: 25, bot: 1 }),
  page(fixed('/cart'), 55, 14_000, { browser: 14 }),
  page(fixed('/checkout'), 120, 16_000, { browser: 5 }),
  page(fixed('/checkout/confirm'), 260, 9_000, { browser: 2 }),
  page(fixed('/account'), 60, 12_000, { browser: 6 }),
  page(fixed('/account/orders'), 110, 20_000, { browser: 3 }),
  page(fixed('/blog'), 40, 25_000, { browser: 4, bot: 6 }),
  page((random) => ({ path: `/blog/${random.pick(BLOG_POSTS)}`, query: null }), 40, 28_000, { browser: 5, bot: 8 }),
  page(fixed('/login'), 35, 8_000, { browser: 6, bot: 1 }),
  page(fixed('/register'), 35, 9_000, { browser: 1.5 }),
  {
    method: 'POST',
    target: fixed('/login'),
    latencyMedianMs: 180, // password hashing is deliberately slow
    latencySigma: 0.3,
    bytesMedian: 600,
    bytesSigma: 0.3,
    weights: { browser: 4, bot: 0, api: 1 },
    status: (random) => (random.chance(0.07) ? 401 : random.chance(0.5) ? 302 : 200),
  },
  page(fixed('/logout'), 15, 400, { browser: 1 }),
  page(fixed('/robots.txt'), 3, 700, { browser: 0.1, bot: 12 }),
  page(fixed('/sitemap.xml'), 25, 180_000, { bot: 5 }),
  asset(`/static/css/main.${BUILD}.css`, 48_000, 40),
  asset(`/static/js/app.${BUILD}.js`, 310_000, 40),
  asset(`/static/js/vendor.${BUILD}.js`, 820_000, 38),
  asset('/static/fonts/inter-var.woff2', 96_000, 20),
  asset('/favicon.ico', 15_000, 18),
  {
    ...asset('/static/img/products', 0, 0),
    target: (random) => ({ path: `/static/img/products/${productId(random)}/${random.pick(['main', 'thumb', 'side'])}.jpg`, query: null }),
    bytesMedian: 140_000,
    bytesSigma: 0.45,
    latencyMedianMs: 8,
    weights: { browser: 90, bot: 6, api: 0 },
  },
  api('GET', fixed('/api/v1/products'), 40, 24_000, { browser: 8, api: 30 }),
  api('GET', (random) => ({ path: `/api/v1/products/${productId(random)}`, query: null }), 18, 3_500, { browser: 10, api: 45 }),
  api('GET', (random) => ({ path: '/api/v1/search', query: searchQuery(random) }), 120, 9_000, { browser: 10, api: 12 }),
  api('GET', fixed('/api/v1/cart'), 22, 1_800, { browser: 14, api: 5 }),
  api('POST', fixed('/api/v1/cart/items'), 35, 900, { browser: 6, api: 4 }, true),
  api('GET', (random) => ({ path: `/api/v1/orders/${random.int(100_000, 999_999)}`, query: null }), 45, 2_600, { browser: 2, api: 10 }),
  api('POST', fixed('/api/v1/checkout'), 420, 1_400, { browser: 2, api: 2 }, true),
  api('GET', fixed('/api/v1/recommendations'), 75, 6_500, { browser: 12, api: 3 }),
  api('POST', fixed('/api/v1/events'), 6, 60, { browser: 30 }, true),
  { ...api('GET', fixed('/health'), 2, 20, { api: 8 }), latencySigma: 0.3, bytesSigma: 0, status: () => 200 },
];

export const BROWSER_USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
];

export interface Crawler {
  userAgent: string;
  /** First three octets of the crawler's published address range. */
  network: string;
}

export const CRAWLERS: readonly Crawler[] = [
  { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', network: '66.249.66' },
  { userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', network: '66.249.79' },
  { userAgent: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', network: '40.77.167' },
  { userAgent: 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)', network: '5.255.253' },
  { userAgent: 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', network: '54.36.148' },
  { userAgent: 'DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)', network: '20.191.45' },
];

export const API_USER_AGENTS: readonly string[] = [
  'curl/8.5.0',
  'python-requests/2.32.3',
  'okhttp/4.12.0',
  'Go-http-client/1.1',
  'axios/1.7.7',
  'Java-http-client/17.0.12',
  'ShopMobileApp/5.2.1 (iOS 18.1) okhttp/4.12.0',
];

/** Paths vulnerability scanners probe; none of them exists on the site. */
export const SCAN_PATHS: readonly string[] = [
  '/wp-admin',
  '/wp-login.php',
  '/.env',
  '/.git/config',
  '/phpmyadmin',
  '/phpMyAdmin/index.php',
  '/admin',
  '/admin.php',
  '/config.php',
  '/server-status',
  '/.aws/credentials',
  '/xmlrpc.php',
  '/cgi-bin/luci',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/backup.zip',
  '/db.sql',
  '/.DS_Store',
  '/actuator/env',
  '/solr/admin/info/system',
  '/HNAP1',
  '/boaform/admin/formLogin',
  '/owa/auth/logon.aspx',
  '/.svn/entries',
  '/wp-content/plugins/revslider/temp',
  '/etc/passwd',
  '/console',
  '/manager/html',
  '/api/v1/../../etc/passwd',
  '/debug/pprof',
  '/.htaccess',
  '/shell.php',
  '/admin/config.bak',
];

export const SCANNER_USER_AGENTS: readonly string[] = [
  'Mozilla/5.0 zgrab/0.x',
  'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)',
  'python-requests/2.25.1',
  'curl/7.68.0',
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
];
