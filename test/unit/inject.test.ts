// Attack episodes rendered in a site's own vocabulary, the own-traffic gate's arithmetic, and
// reasons that name the feature that fired, on the real Apache log in test/fixtures.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import type { LogEvent } from '../../logs/record.js';
import { decideOnOwnTraffic, evaluateOnGateSet, gateReport, gateSet, splitByTime, type GateReport } from '../../ml/gate.js';
import { ATTACK_KINDS, injectEpisodes, renderEpisodes, siteProfile } from '../../ml/inject.js';
import type { ModelArtifact } from '../../ml/model.js';
import { trainModel } from '../../ml/train.js';
import { readLogFile } from '../../training/logFile.js';
import { APACHE_LOG } from '../helpers/fixtures.js';

let training: LogEvent[];
let heldOut: LogEvent[];

before(async () => {
  ({ training, heldOut } = splitByTime((await readLogFile(APACHE_LOG)).events, 0.5));
});

describe('attack episodes in the site vocabulary', () => {
  it('renders every scenario kind with its label, from addresses the site never saw, in the log format of the site', () => {
    const profile = siteProfile(
      heldOut,
      training.map((event) => event.clientIp),
    );
    const episodes = renderEpisodes(profile, { seed: 3 });
    const kinds = new Set(episodes.map((event) => event.label));
    assert.deepEqual([...kinds].sort(), [...ATTACK_KINDS].sort());
    const seen = new Set([...training, ...heldOut].map((event) => event.clientIp));
    assert.ok(
      episodes.every((event) => !seen.has(event.clientIp)),
      'clients the site has not seen',
    );
    assert.ok(
      episodes.every((event) => event.responseTimeMs === null),
      'combined logs carry no response time, so neither do the episodes',
    );
    assert.ok(episodes.every((event, index) => index === 0 || event.timestampMs >= episodes[index - 1]!.timestampMs));
    assert.ok(episodes.every((event) => event.timestampMs >= profile.startMs && event.timestampMs <= profile.endMs));
    // Floods, scrapers and error storms use the site's own paths.
    const sitePaths = new Set(heldOut.map((event) => event.path));
    for (const kind of ['request_flood', 'scraping', 'error_storm'] as const)
      assert.ok(
        episodes.filter((event) => event.label === kind).every((event) => sitePaths.has(event.path)),
        `${kind} on the site's own paths`,
      );
    // Slow and distributed variants are slow and distributed.
    const clientsOf = (kind: string) => new Set(episodes.filter((event) => event.label === kind).map((event) => event.clientIp)).size;
    assert.equal(clientsOf('path_scan'), 1);
    assert.ok(clientsOf('path_scan_distributed') >= 5);
    assert.ok(clientsOf('credential_stuffing_distributed') >= 15);
    const slow = episodes.filter((event) => event.label === 'path_scan_slow');
    assert.ok((slow.at(-1)!.timestampMs - slow[0]!.timestampMs) / slow.length >= 10_000, 'a probe every ten seconds or slower');
    // The same seed gives the same episodes.
    assert.deepEqual(renderEpisodes(profile, { seed: 3 }), episodes);
  });

  it('merges episodes into the site rows in time order, keeping every row', () => {
    const rows = heldOut.slice(0, 500);
    const episodes = renderEpisodes(siteProfile(rows), { seed: 1, kinds: ['sql_injection', 'request_flood'] });
    const merged = injectEpisodes(rows, episodes);
    assert.equal(merged.length, rows.length + episodes.length);
    assert.ok(merged.every((event, index) => index === 0 || event.timestampMs >= merged[index - 1]!.timestampMs));
    assert.equal(
      merged.filter((event) => event.label === 'sql_injection').length,
      episodes.filter((e) => e.label === 'sql_injection').length,
    );
  });
});

describe('the promotion gate on the site own traffic', () => {
  let model: ModelArtifact;
  let rows: LogEvent[];

  before(async () => {
    model = (await trainModel(training, { kMin: 2, kMax: 6, seed: 42, thresholdPercentile: 99, source: 'unit', origin: 'site' })).model;
    rows = gateSet(heldOut, { seed: 2, knownClients: training.map((event) => event.clientIp) });
  });

  it('reports recall per scenario and false positives on the site rows, with reasons that name the feature that fired', async () => {
    const { report, results } = await evaluateOnGateSet(model, rows);
    assert.equal(report.normalRows, heldOut.length);
    assert.deepEqual(
      report.perScenario.map((entry) => entry.kind),
      [...ATTACK_KINDS],
    );
    assert.ok(report.falsePositiveRate < 0.02, `false positives ${report.falsePositiveRate}`);
    const reasonOf = (kind: string) =>
      results
        .filter((result, index) => rows[index]!.label === kind && result.isAnomaly)
        .map((result) => result.reasons?.[0]?.feature ?? '-');
    const mostly = (kind: string, feature: string) => {
      const reasons = reasonOf(kind);
      assert.ok(reasons.length > 0, `${kind} detected`);
      assert.ok(reasons.filter((reason) => reason === feature).length > reasons.length / 2, `${kind}: ${reasons.slice(0, 5).join(', ')}`);
    };
    mostly('xss_probe', 'content_script');
    mostly('sql_injection', 'content_sql');
    mostly('credential_stuffing', 'client_auth_failure_ratio');
    mostly('error_storm', 'status_5xx');
  });

  it('promotes within the budget and at least as good as the champion, and says why when not', () => {
    const report = (f1: number, falsePositiveRate: number): GateReport => ({
      ...gateReport(['normal'], [false]),
      normalRows: 1000,
      attackRows: 100,
      f1,
      falsePositiveRate,
    });
    const policy = { falsePositiveBudget: 0.01 };
    assert.equal(decideOnOwnTraffic({ report: report(0.9, 0.005), origin: 'site' }, undefined, policy).promoted, true);
    const tooNoisy = decideOnOwnTraffic({ report: report(0.99, 0.02), origin: 'site' }, undefined, policy);
    assert.equal(tooNoisy.promoted, false);
    assert.match(tooNoisy.reason, /false positives 2\.00% .* exceed the budget of 1\.00%/);
    const champion = { version: '4', report: report(0.92, 0.004), origin: 'site' as const };
    const worse = decideOnOwnTraffic({ report: report(0.9, 0.004), origin: 'site' }, champion, policy);
    assert.equal(worse.promoted, false);
    assert.match(worse.reason, /F1 0\.9000 < champion version 4 0\.9200/);
    assert.equal(decideOnOwnTraffic({ report: report(0.92, 0.004), origin: 'site' }, champion, policy).promoted, true, 'ties promote');
    const generated = decideOnOwnTraffic({ report: report(0.99, 0.001), origin: 'generated' }, champion, policy);
    assert.equal(generated.promoted, false);
    assert.match(generated.reason, /generated traffic/);
    assert.equal(
      decideOnOwnTraffic({ report: report(0.5, 0.004), origin: 'site' }, { version: '2', unusable: 'feature spec web-access-v1' }, policy)
        .promoted,
      true,
    );
  });
});

describe('logstream evaluate --inject', () => {
  it("trains on the first part of a user's access log and prints recall per attack kind as JSON", async () => {
    const cli = fileURLToPath(new URL('../../bin/logstream.js', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, 'evaluate', '--inject', APACHE_LOG, '--held-out', '0.4', '--json'],
      {
        env: { ...process.env, LOGSTREAM_ML_K_MAX: '5' },
      },
    );
    const result = JSON.parse(stdout) as { trainingRows: number; heldOutRows: number; perScenario: { kind: string; rows: number }[] };
    assert.equal(result.trainingRows + result.heldOutRows, 9_999);
    assert.ok(Math.abs(result.heldOutRows - 4_000) <= 1);
    assert.deepEqual(
      result.perScenario.map((entry) => entry.kind),
      [...ATTACK_KINDS],
    );
    assert.ok(result.perScenario.every((entry) => entry.rows > 0));
  });
});
