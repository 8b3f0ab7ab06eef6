// `logstream analytics` over a lakehouse filled from the real Apache log, in a folder and in the
// stack's S3 store: the report's numbers (JSON and the HTML report) match a direct read of the same
// Delta table.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DeltaTable, tablePath, type StorageSettings } from '../../clients/delta/index.js';
import type { AnalyticsReport } from '../../analytics/report.js';
import { scoredApacheRecords, writeLakehouse } from '../helpers/apacheLakehouse.js';
import { localCase, storageCases } from '../helpers/storages.js';

const run = promisify(execFile);
const cli = new URL('../../bin/logstream.js', import.meta.url).pathname;

interface DirectFigures {
  requests: number;
  clients: number;
  serverErrors: number;
  anomalies: number;
  byEndpoint: Map<string, number>;
  byClient: Map<string, number>;
}

/** The figures computed in plain TypeScript from the Delta table's rows. */
async function directFigures(path: string, storage: StorageSettings): Promise<DirectFigures> {
  const snapshot = await (await DeltaTable.open(path, storage)).snapshot();
  const table = await snapshot.scan({ columns: ['client_ip', 'path_template', 'status', 'is_anomaly'] });
  const figures: DirectFigures = {
    requests: table.numRows,
    clients: 0,
    serverErrors: 0,
    anomalies: 0,
    byEndpoint: new Map(),
    byClient: new Map(),
  };
  for (const row of table) {
    const {
      client_ip: client,
      path_template: endpoint,
      status,
      is_anomaly: anomaly,
    } = row.toJSON() as { client_ip: string; path_template: string; status: number; is_anomaly: boolean };
    if (status >= 500) figures.serverErrors += 1;
    if (anomaly) figures.anomalies += 1;
    figures.byEndpoint.set(endpoint, (figures.byEndpoint.get(endpoint) ?? 0) + 1);
    figures.byClient.set(client, (figures.byClient.get(client) ?? 0) + 1);
  }
  figures.clients = figures.byClient.size;
  return figures;
}

const rowsOf = (report: AnalyticsReport, name: string) => report.sections.find((part) => part.name === name)?.rows ?? [];

for (const storage of storageCases) {
  describe(`logstream analytics on the Apache access log (${storage.name})`, () => {
    const root = storage === localCase ? mkdtempSync(join(tmpdir(), 'logstream-analytics-')) : storage.scratch('analytics');
    const out = mkdtempSync(join(tmpdir(), 'logstream-analytics-out-'));
    const env = { ...process.env, ...storage.env };
    let direct: DirectFigures;

    before(async () => {
      await storage.ready();
      await writeLakehouse(root, await scoredApacheRecords(), 2500, storage.options);
      direct = await directFigures(tablePath(root, 'logs'), storage.options);
    });

    it('reports the same totals, endpoints and clients as a direct read of the table', async () => {
      const { stdout } = await run(process.execPath, [cli, 'analytics', '--root', root, '--format', 'json', '--limit', '5'], { env });
      const report = JSON.parse(stdout) as AnalyticsReport;
      const summary = rowsOf(report, 'summary')[0]!;
      assert.equal(direct.requests, 9999, 'all parseable lines of the log are in the table');
      assert.equal(summary.requests, direct.requests);
      assert.equal(summary.clients, direct.clients);
      assert.equal(summary.server_errors, direct.serverErrors);
      assert.equal(summary.anomalies, direct.anomalies);
      const volumeTotal = rowsOf(report, 'volume').reduce((sum, row) => sum + Number(row.requests), 0);
      assert.equal(volumeTotal, direct.requests, 'the volume buckets add up to the total');
      for (const row of rowsOf(report, 'endpoints'))
        assert.equal(row.requests, direct.byEndpoint.get(String(row.endpoint)), `endpoint ${row.endpoint}`);
      const busiest = [...direct.byEndpoint.values()].sort((a, b) => b - a)[0];
      assert.equal(rowsOf(report, 'endpoints')[0]!.requests, busiest);
      for (const row of rowsOf(report, 'top_clients'))
        assert.equal(row.requests, direct.byClient.get(String(row.client_ip)), `client ${row.client_ip}`);
      assert.equal(rowsOf(report, 'latest_anomalies').length, Math.min(5, direct.anomalies));
    });

    it('writes a self-contained HTML report with charts and the same numbers', async () => {
      const file = join(out, 'report.html');
      await run(process.execPath, [cli, 'analytics', '--root', root, '--html', file, '--format', 'json'], { env });
      const html = readFileSync(file, 'utf8');
      assert.match(html, /^<!doctype html>/);
      assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts and no external resources');
      assert.ok((html.match(/<svg/g) ?? []).length >= 4, 'charts are inline SVG');
      const figure = (name: string) => new RegExp(`data-figure="${name}"><div class="value">([^<]+)<`).exec(html)?.[1];
      assert.equal(figure('requests'), direct.requests.toLocaleString('en-US'));
      assert.equal(figure('clients'), direct.clients.toLocaleString('en-US'));
    });

    it('filters by time range and endpoint', async () => {
      const endpoint = [...direct.byEndpoint.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const { stdout } = await run(
        process.execPath,
        [cli, 'analytics', '--root', root, '--format', 'json', '--endpoint', endpoint, '--from', '2015-05-18', '--to', '2015-05-19'],
        { env },
      );
      const summary = rowsOf(JSON.parse(stdout) as AnalyticsReport, 'summary')[0]!;
      assert.ok(Number(summary.requests) > 0 && Number(summary.requests) < direct.byEndpoint.get(endpoint)!);
      assert.equal(summary.endpoints, 1);
      assert.ok(String(summary.first_seen) >= '2015-05-18T00:00:00.000Z' && String(summary.last_seen) < '2015-05-19T00:00:00.000Z');
    });

    it('refuses a root without a logs table with exit code 2', async () => {
      const empty = storage === localCase ? tmpdir() : storage.scratch('analytics-empty');
      await assert.rejects(
        run(process.execPath, [cli, 'analytics', '--root', empty], { env }),
        (error: { code: number; stderr: string }) => {
          assert.equal(error.code, 2);
          assert.match(error.stderr, /no logs table under/);
          return true;
        },
      );
    });
  });
}
