import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketForRange, endpointsQuery, whereClause } from '../../analytics/queries.js';
import { parseTime } from '../../cli/options.js';
import { UsageError } from '../../config/errors.js';

describe('analytics queries', () => {
  it('bind filter values as parameters, never into the SQL text', () => {
    const where = whereClause({ fromMs: Date.UTC(2015, 4, 18), toMs: Date.UTC(2015, 4, 19), endpoint: "/x'; DROP TABLE logs; --" });
    assert.equal(where.sql, 'WHERE event_time >= CAST($1 AS TIMESTAMPTZ) AND event_time < CAST($2 AS TIMESTAMPTZ) AND path_template = $3');
    assert.deepEqual(where.params, ['2015-05-18T00:00:00.000Z', '2015-05-19T00:00:00.000Z', "/x'; DROP TABLE logs; --"]);
    assert.deepEqual(whereClause({}), { sql: '', params: [] });
    const query = endpointsQuery({ endpoint: '/a' }, 5);
    assert.match(query.sql, /WHERE path_template = \$1/);
    assert.match(query.sql, /LIMIT 5$/);
  });

  it('pick a bucket width that gives a readable number of points', () => {
    assert.equal(bucketForRange(0).label, 'minute');
    assert.equal(bucketForRange(24 * 3_600_000).label, '15 minutes');
    assert.equal(bucketForRange(4 * 24 * 3_600_000).label, 'hour');
    assert.equal(bucketForRange(60 * 24 * 3_600_000).label, 'day');
  });

  it('read times as ISO-8601 or as an age, and refuse anything else', () => {
    const now = Date.UTC(2026, 0, 2);
    assert.equal(parseTime('--from', '24h', now), Date.UTC(2026, 0, 1));
    assert.equal(parseTime('--from', '2015-05-18', now), Date.UTC(2015, 4, 18));
    assert.equal(parseTime('--from', '2015-05-18T10:00:00Z', now), Date.UTC(2015, 4, 18, 10));
    assert.throws(
      () => parseTime('--from', 'yesterday', now),
      (error: unknown) => error instanceof UsageError && /--from/.test(error.message),
    );
  });
});
