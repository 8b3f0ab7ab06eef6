// The provisioned dashboards are what infra/grafana/dashboards.ts builds, and every PromQL
// expression in them refers only to metrics the pipeline exports.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildDashboards, promQueries } from '../../infra/grafana/dashboards.js';
import { registry } from '../../clients/metrics/registry.js';

const folder = new URL('../../infra/grafana/dashboards/', import.meta.url);

describe('Grafana dashboards', () => {
  const built = buildDashboards();

  it('are the four provisioned dashboards, up to date with their source (run `npm run dashboards`)', () => {
    assert.deepEqual(
      readdirSync(folder)
        .filter((file) => file.endsWith('.json'))
        .sort(),
      Object.keys(built).sort(),
    );
    for (const [file, board] of Object.entries(built)) {
      const committed = JSON.parse(readFileSync(new URL(file, folder), 'utf8'));
      assert.deepEqual(committed, JSON.parse(JSON.stringify(board)), `${file} differs from infra/grafana/dashboards.ts`);
    }
  });

  it('have unique uids and panel ids, and panels inside the 24-column grid', () => {
    const uids = Object.values(built).map((board) => board.uid);
    assert.equal(new Set(uids).size, uids.length);
    for (const board of Object.values(built)) {
      const ids = (board.panels ?? []).map((panel) => panel.id);
      assert.equal(new Set(ids).size, ids.length, `${board.title}: panel ids`);
      for (const panel of board.panels ?? []) {
        assert.ok(panel.gridPos && panel.gridPos.x + panel.gridPos.w <= 24, `${board.title} / ${panel.title}`);
      }
    }
  });

  it('query only metrics the pipeline exports', async () => {
    const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    for (const board of Object.values(built)) {
      const queries = promQueries(board);
      assert.ok(queries.length > 0, `${board.title} has Prometheus panels`);
      for (const { panel, expr } of queries) {
        for (const [name] of expr.matchAll(/logstream_[a-z0-9_]+/g)) {
          const base = name.replace(/_(bucket|sum|count)$/, '');
          assert.ok(exported.has(base), `${board.title} / ${panel}: ${name} is not an exported metric`);
        }
      }
    }
  });
});
