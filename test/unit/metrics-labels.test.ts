import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLabelSet, OTHER, statusClass } from '../../clients/metrics/labels.js';
import { registry } from '../../clients/metrics/registry.js';

describe('metric labels', () => {
  it('keep at most the configured number of distinct values', () => {
    const labels = new BoundedLabelSet(2);
    assert.equal(labels.label('/a'), '/a');
    assert.equal(labels.label('/b'), '/b');
    assert.equal(labels.label('/c'), OTHER);
    assert.equal(labels.label('/a'), '/a');
    assert.equal(labels.label(null), 'none');
  });

  it('group statuses into classes', () => {
    assert.equal(statusClass(204), '2xx');
    assert.equal(statusClass(503), '5xx');
    assert.equal(statusClass(999), OTHER);
  });

  it('name every metric by Prometheus conventions, with a unit or _total suffix', async () => {
    const metrics = await registry.getMetricsAsJSON();
    const own = metrics.filter((metric) => metric.name.startsWith('logstream_') && !metric.name.startsWith('logstream_process_'));
    assert.ok(own.length >= 15);
    for (const metric of own) {
      assert.match(metric.name, /^logstream_[a-z0-9_]+$/);
      if (String(metric.type) === 'counter') assert.match(metric.name, /_total$/, metric.name);
      else assert.match(metric.name, /_(seconds|records|messages|info|score|metric)$/, metric.name);
    }
  });
});
