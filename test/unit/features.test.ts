import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateTrainingData } from '../../generator/index.js';
import type { LogEvent } from '../../logs/record.js';
import { ClientWindow, type WindowRequest } from '../../ml/clientWindow.js';
import { extractFeatures, FEATURE_COUNT, FEATURE_NAMES, fitVocabulary } from '../../ml/features.js';
import { classifyUserAgent } from '../../ml/userAgent.js';

const column = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);
const base: LogEvent = {
  timestampMs: Date.UTC(2026, 0, 6, 12),
  clientIp: '203.0.113.9',
  method: 'GET',
  path: '/products/1234',
  query: null,
  pathTemplate: '/products/{id}',
  status: 200,
  responseTimeMs: 70,
  responseBytes: 35_000,
  referrer: null,
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
  label: 'normal',
};
const training = generateTrainingData(8_000, 5);
const vocabulary = fitVocabulary(training);
const featuresOf = (events: LogEvent[]) => extractFeatures(events, new ClientWindow(), vocabulary);

describe('features (spec web-access-v2)', () => {
  it('gives one row of FEATURE_COUNT finite numbers per event', () => {
    const rows = featuresOf(training.slice(0, 500));
    assert.equal(rows.length, 500 * FEATURE_COUNT);
    assert.ok(rows.every(Number.isFinite));
  });

  it('never uses the label', () => {
    const events = training.slice(0, 300);
    const relabeled = events.map((event) => ({ ...event, label: 'path_scan' }));
    assert.deepEqual(featuresOf(relabeled), featuresOf(events));
  });

  it('measures response time and size against what the endpoint usually returns', () => {
    const [typical, slow, huge] = [base, { ...base, responseTimeMs: 70 * 30 }, { ...base, responseBytes: 300_000_000 }].map((event) =>
      featuresOf([event]),
    );
    assert.ok(Math.abs(typical![column('response_time_excess')]!) < 0.5);
    assert.ok(slow![column('response_time_excess')]! > 3, 'thirty times slower is over three e-folds');
    assert.ok(huge![column('bytes_excess')]! > 8);
    assert.ok(typical![column('endpoint_log_frequency')]! > -2);
    const unseen = featuresOf([{ ...base, path: '/.env', pathTemplate: '/.env', status: 404 }]);
    assert.equal(unseen[column('endpoint_unseen')], 1);
    assert.equal(unseen[column('status_4xx')], 1);
  });

  it('imputes a missing response time (combined logs) as typical and flags it', () => {
    const row = featuresOf([{ ...base, responseTimeMs: null }]);
    assert.equal(row[column('response_time_missing')], 1);
    assert.equal(row[column('response_time_excess')], 0);
    assert.ok(Number.isFinite(row[column('log_response_time_ms')]!));
  });

  it('encodes time of day and day of week on circles', () => {
    const midnight = featuresOf([{ ...base, timestampMs: Date.UTC(2026, 0, 6, 0) }]);
    const noon = featuresOf([{ ...base, timestampMs: Date.UTC(2026, 0, 6, 12) }]);
    assert.ok(Math.abs(midnight[column('hour_cos')]! - 1) < 1e-6);
    assert.ok(Math.abs(noon[column('hour_cos')]! + 1) < 1e-6);
  });

  it('sees a flood, an error-heavy client and many distinct paths in the client window', () => {
    const flood = Array.from({ length: 400 }, (_, index) => ({
      ...base,
      clientIp: '198.51.100.7',
      timestampMs: base.timestampMs + index * 10,
    }));
    const rows = featuresOf(flood);
    const lastRow = (name: (typeof FEATURE_NAMES)[number]) => rows[(flood.length - 1) * FEATURE_COUNT + column(name)]!;
    assert.ok(lastRow('client_log_request_rate') > Math.log1p(50), 'about 100 requests per second');
    const scan = Array.from({ length: 100 }, (_, index) => ({
      ...base,
      clientIp: '198.51.100.8',
      path: `/probe-${index}`,
      pathTemplate: `/probe-${index}`,
      status: 404,
      timestampMs: base.timestampMs + index * 100,
    }));
    const scanRows = featuresOf(scan);
    const last = (name: (typeof FEATURE_NAMES)[number]) => scanRows[(scan.length - 1) * FEATURE_COUNT + column(name)]!;
    assert.ok(last('client_error_ratio') > 0.95);
    assert.ok(last('client_not_found_ratio') > 0.95);
    assert.ok(last('client_log_distinct_paths') > Math.log1p(40));
  });
});

const request = (clientIp: string, timestampMs: number, status: number, path: string, method = 'GET'): WindowRequest => ({
  clientIp,
  timestampMs,
  status,
  method,
  path,
  pathTemplate: path,
});

describe('ClientWindow', () => {
  it('counts requests and distinct paths inside the window only', () => {
    const window = new ClientWindow({ windowMs: 60_000, buckets: 6 });
    const start = Date.UTC(2026, 0, 1);
    for (let index = 0; index < 30; index += 1)
      window.observe(request('a', start + index * 1000, index % 3 === 0 ? 500 : 200, `/p${index % 10}`));
    const stats = window.stats('a', start + 29_000);
    assert.equal(stats.requests, 30);
    assert.ok(stats.distinctPaths > 7 && stats.distinctPaths < 14, `distinct ~10, got ${stats.distinctPaths}`);
    assert.ok(Math.abs(stats.requestsPerSecond - 30 / 29) < 0.05);
    assert.equal(window.stats('a', start + 200_000).requests, 0, 'forgotten after the window');
  });

  it("keeps a client's decayed recent errors, 404s and failed logins for longer than the window", () => {
    const window = new ClientWindow({ recentMs: 600_000 });
    const start = Date.UTC(2026, 0, 1);
    // A slow scanner: one probe every 45 s for 20 minutes, each a 404.
    let last = window.observe(request('scanner', start, 404, '/.env'));
    for (let index = 1; index < 27; index += 1) last = window.observe(request('scanner', start + index * 45_000, 404, `/probe-${index}`));
    assert.ok(last.requests <= 2, 'the sliding window sees one or two of its requests');
    assert.ok(last.recentRequests > 10, `recent requests ${last.recentRequests}`);
    assert.ok(Math.abs(last.recentNotFound - last.recentRequests) < 1e-3 && Math.abs(last.recentErrors - last.recentRequests) < 1e-3);
    // A failed login is a 401, or a 403 to a POST.
    window.observe(request('login', start, 401, '/login', 'POST'));
    const second = window.observe(request('login', start + 1_000, 403, '/login', 'POST'));
    assert.ok(Math.abs(second.recentAuthFailures - 2) < 0.01);
    const get = window.observe(request('viewer', start, 403, '/private'));
    assert.equal(get.recentAuthFailures, 0);
    // Ten minutes without requests: the counts have decayed by e.
    const later = window.stats('scanner', start + 26 * 45_000 + 600_000);
    assert.ok(Math.abs(later.recentRequests - last.recentRequests / Math.E) < 0.05 * last.recentRequests);
  });

  it('measures the same sustained rate after a few minutes of observation as after an hour', () => {
    const start = Date.UTC(2026, 0, 1);
    const rateAfter = (minutes: number) => {
      const window = new ClientWindow();
      let stats = window.observe(request('steady', start, 200, '/'));
      for (let second = 2; second <= minutes * 60; second += 2)
        stats = window.observe(request('steady', start + second * 1000, 200, `/p${second}`));
      return stats.sustainedRequestsPerSecond;
    };
    assert.ok(Math.abs(rateAfter(4) - 0.5) < 0.05, `after 4 minutes ${rateAfter(4)}`);
    assert.ok(Math.abs(rateAfter(60) - 0.5) < 0.05, `after an hour ${rateAfter(60)}`);
  });

  it("counts an endpoint's recent errors over all clients, and the site's 404s", () => {
    const window = new ClientWindow({ endpointRecentMs: 120_000 });
    const start = Date.UTC(2026, 0, 1);
    let stats = window.observe(request('c0', start, 200, '/checkout'));
    for (let index = 1; index <= 40; index += 1) stats = window.observe(request(`c${index}`, start + index * 100, 503, '/checkout'));
    assert.ok(stats.endpointRequests > 40 && stats.endpointRequests <= 41, 'decayed a little over the four seconds');
    assert.ok(stats.endpointErrors > 39 && stats.endpointErrors <= 40);
    const other = window.observe(request('c99', start + 5_000, 404, '/missing'));
    assert.ok(other.endpointRequests <= 1 && other.siteRequests > 40 && other.siteNotFound >= 0.99 && other.siteNotFound <= 1);
  });

  it('counts a late request that is still inside the window, and ignores one the window has left behind', () => {
    const window = new ClientWindow({ windowMs: 60_000, buckets: 6 });
    const start = Date.UTC(2026, 0, 1);
    window.observe(request('a', start + 50_000, 200, '/a'));
    window.observe(request('a', start + 5_000, 500, '/late')); // 45 s late: its bucket is still in the window
    window.observe(request('a', start + 100_000, 200, '/b')); // the window now starts at 50 s
    assert.equal(
      window.observe(request('a', start + 1_000, 500, '/too-late')).requests,
      0,
      'a request from before the window is not counted',
    );
    const stats = window.stats('a', start + 100_000);
    assert.equal(stats.requests, 2, 'the late request left the window with its bucket; the one too late never entered');
    assert.equal(window.stats('a', start + 45_000).requests, 0, 'no statistics for a time the window no longer holds');
    const other = new ClientWindow();
    other.observe(request('b', start + 50_000, 200, '/a'));
    const late = other.observe(request('b', start + 5_000, 500, '/late'));
    assert.equal(late.requests, 1, "statistics as of the late request's own time");
    assert.ok(late.recentErrors > 0.9 && late.recentRequests > 1.9, 'its error still counts in the recent counts');
  });

  it('keeps memory bounded by forgetting the least recently seen clients', () => {
    const window = new ClientWindow({ maxClients: 1_000 });
    const ip = (index: number) => `10.0.${index >> 8}.${index & 255}`;
    for (let index = 0; index < 5_000; index += 1) {
      window.observe(request(ip(index), 1_000 + index, 200, '/'));
      window.observe(request(ip(index), 1_000 + index, 200, '/a'));
    }
    assert.ok(window.size <= 1_000 && window.size >= 900, `${window.size} clients tracked`);
    assert.equal(window.stats(ip(0), 6_000).requests, 0);
    assert.equal(window.stats(ip(4999), 6_000).requests, 2);
  });

  it('keeps the counts of every recently seen client exact while it forgets others (record index under eviction)', () => {
    const window = new ClientWindow({ maxClients: 500 });
    const start = Date.UTC(2026, 0, 1);
    const recent = new Map<string, number>();
    let state = 1;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let index = 0; index < 60_000; index += 1) {
      const ip = `198.51.${Math.floor(next() * 12)}.${Math.floor(next() * 250)}`;
      const timestampMs = start + index * 5;
      window.observe(request(ip, timestampMs, 200, '/'));
      recent.set(ip, (recent.get(ip) ?? 0) + 1);
      if (index % 1_000 === 999) recent.clear();
    }
    // The clients of the last stretch, all seen within the window, keep exact counts.
    assert.ok(window.size <= 500);
    for (const [ip, count] of recent) assert.ok(window.stats(ip, start + 60_000 * 5).requests >= count, ip);
  });

  it('gives a client a record only at its second request, with the first one counted', () => {
    const window = new ClientWindow();
    const start = Date.UTC(2026, 0, 1);
    for (let index = 0; index < 20_000; index += 1) window.observe(request(`one-off-${index}`, start + index, 200, '/'));
    assert.equal(window.size, 0, 'one-off clients take no record');
    assert.equal(window.stats('one-off-19999', start + 20_000).requests, 1, 'but their request is known');
    const first = window.observe(request('a', start + 30_000, 404, '/x'));
    assert.equal(first.requests, 1);
    assert.equal(first.recentNotFound, 1);
    const second = window.observe(request('a', start + 31_000, 200, '/y'));
    assert.equal(window.size, 1);
    assert.equal(second.requests, 2);
    assert.ok(second.recentRequests > 1.99 && second.recentNotFound > 0.99);
    assert.ok(second.distinctPaths > 1.9 && second.distinctPaths <= 2);
    // A client back after minutes away still has its first request in its recent counts.
    window.observe(request('slow', start, 404, '/a'));
    const back = window.observe(request('slow', start + 300_000, 404, '/b'));
    assert.equal(back.requests, 1, 'the sliding window has only the second request');
    assert.ok(back.recentNotFound > 1.5, `recent 404s ${back.recentNotFound}`);
  });
});

describe('user agent classes', () => {
  it('tells browsers, crawlers, API clients and the rest apart', () => {
    assert.equal(classifyUserAgent(base.userAgent), 'browser');
    assert.equal(classifyUserAgent('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'), 'bot');
    assert.equal(classifyUserAgent('python-requests/2.32.3'), 'api');
    assert.equal(classifyUserAgent('okhttp/4.12.0'), 'api');
    assert.equal(classifyUserAgent('Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)'), 'other');
    assert.equal(classifyUserAgent(null), 'other');
    assert.equal(classifyUserAgent('-'), 'other');
  });
});
