import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkLines, isRetryableStatus, readBulkItems, retryDelayMs } from '../../clients/search/bulk.js';
import { searchClientOver } from '../../clients/search/client.js';
import type { EngineRequest, EngineResponse, SearchEngine } from '../../clients/search/engine.js';
import { SearchRequestError, SearchUnavailableError } from '../../clients/search/errors.js';
import { expiredIndexNames } from '../../clients/search/lifecycle.js';
import { logsIndexTemplate } from '../../clients/search/template.js';
import { renderTemplate } from '../../infra/search/javaSearchNode.js';

const documents = ['a', 'b', 'c'].map((id) => ({ index: 'p-logs-2026.11.28', id, document: { value: id } }));

/** An engine whose `_bulk` answers come from a script: one function per request. */
function scriptedEngine(answers: Array<(lines: readonly unknown[]) => EngineResponse>): SearchEngine & { requests: EngineRequest[] } {
  const requests: EngineRequest[] = [];
  return {
    kind: 'opensearch',
    url: 'http://scripted',
    requests,
    async request(request) {
      requests.push(request);
      const answer = answers.shift();
      if (!answer) throw new Error('unexpected request');
      return answer(request.bulkBody ?? []);
    },
    async close() {},
  };
}

function itemsFor(lines: readonly unknown[], statusOf: (id: string) => number) {
  const actions = lines.filter((_line, position) => position % 2 === 0) as Array<{ index: { _id: string; _index: string } }>;
  return {
    statusCode: 200,
    body: {
      errors: true,
      items: actions.map(({ index }) => {
        const status = statusOf(index._id);
        return {
          index: {
            _id: index._id,
            _index: index._index,
            status,
            ...(status >= 300 ? { error: { type: `type_${status}`, reason: `reason ${status}` } } : {}),
          },
        };
      }),
    },
  };
}

describe('bulk request and answer', () => {
  it('writes an index action (create or overwrite) with the deterministic id before each source', () => {
    assert.deepEqual(bulkLines(documents.slice(0, 2)), [
      { index: { _index: 'p-logs-2026.11.28', _id: 'a' } },
      { value: 'a' },
      { index: { _index: 'p-logs-2026.11.28', _id: 'b' } },
      { value: 'b' },
    ]);
  });

  it('reads per-item failures with their cause, and which may pass on retry', () => {
    const failures = readBulkItems(
      {
        items: [
          { index: { status: 201 } },
          {
            index: {
              status: 400,
              error: {
                type: 'mapper_parsing_exception',
                reason: 'failed to parse field [n]',
                caused_by: { reason: 'For input string: "abc"' },
              },
            },
          },
          { index: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
        ],
      },
      3,
    );
    assert.equal(failures[0], undefined);
    assert.deepEqual(failures[1], {
      statusCode: 400,
      type: 'mapper_parsing_exception',
      reason: 'failed to parse field [n]: For input string: "abc"',
      retryable: false,
    });
    assert.deepEqual(failures[2], { statusCode: 429, type: 'es_rejected_execution_exception', reason: 'queue full', retryable: true });
    assert.throws(() => readBulkItems({ items: [] }, 1), /0 items for 1 documents/);
  });

  it('retries overload and server errors only, with growing capped delays', () => {
    assert.deepEqual([429, 500, 503, 400, 404, 409].map(isRetryableStatus), [true, true, true, false, false, false]);
    assert.deepEqual(
      [2, 3, 4, 10].map((attempt) => retryDelayMs(attempt, 100, 1000)),
      [100, 200, 400, 1000],
    );
  });
});

describe('bulkIndex retries', () => {
  it('sends only the retryable failures again and reports each document once', async () => {
    let round = 0;
    const engine = scriptedEngine([
      (lines) => itemsFor(lines, (id) => ({ a: 201, b: 429, c: 400 })[id]!),
      (lines) => {
        round += 1;
        return itemsFor(lines, () => 200);
      },
    ]);
    const client = searchClientOver(engine, 'p', { retryBaseDelayMs: 1 });
    const result = await client.bulkIndex(documents);
    assert.equal(round, 1);
    assert.equal(engine.requests[1]!.bulkBody!.length, 2, 'only b is sent again');
    assert.equal(result.indexed, 2);
    assert.equal(result.failed, 1);
    assert.equal(result.requests, 2);
    assert.deepEqual(
      result.outcomes.map((outcome) => [outcome.id, outcome.status, outcome.attempts]),
      [
        ['a', 'indexed', 1],
        ['b', 'indexed', 2],
        ['c', 'failed', 1],
      ],
    );
  });

  it('reports a document failed once its attempts are used up', async () => {
    const engine = scriptedEngine([1, 2, 3].map(() => (lines: readonly unknown[]) => itemsFor(lines, () => 503)));
    const result = await searchClientOver(engine, 'p', { maxAttempts: 3, retryBaseDelayMs: 1 }).bulkIndex(documents.slice(0, 1));
    assert.equal(result.failed, 1);
    const outcome = result.outcomes[0]!;
    assert.ok(outcome.status === 'failed');
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(outcome.error, { statusCode: 503, type: 'type_503', reason: 'reason 503', retryable: true });
  });

  it('throws a clear error when the engine stays unreachable, after its attempts', async () => {
    const unreachable = () => {
      throw new SearchUnavailableError('opensearch', 'http://scripted', 'connect ECONNREFUSED');
    };
    const engine = scriptedEngine([unreachable, unreachable]);
    await assert.rejects(searchClientOver(engine, 'p', { maxAttempts: 2, retryBaseDelayMs: 1 }).bulkIndex(documents), {
      name: 'SearchUnavailableError',
      message: 'opensearch at http://scripted is unreachable: connect ECONNREFUSED',
    });
    assert.equal(engine.requests.length, 2);
  });

  it('does not retry a request the engine refuses as a whole', async () => {
    const engine = scriptedEngine([
      () => {
        throw new SearchRequestError('opensearch', '_bulk', 400, 'illegal_argument_exception', 'Malformed action/metadata line');
      },
    ]);
    await assert.rejects(searchClientOver(engine, 'p', { retryBaseDelayMs: 1 }).bulkIndex(documents), SearchRequestError);
    assert.equal(engine.requests.length, 1);
  });
});

describe('retention and template', () => {
  it('expires a daily index once its whole day is older than the retention', () => {
    const now = Date.UTC(2026, 10, 28, 12);
    const names = ['p-logs-2026.10.28', 'p-logs-2026.10.29', 'p-logs-2026.11.28', 'p-logs-other', 'q-logs-2020.01.01'];
    assert.deepEqual(expiredIndexNames(names, 'p', 30, now), ['p-logs-2026.10.28']);
    assert.deepEqual(expiredIndexNames(names, 'p', 30, Date.UTC(2026, 10, 29)), ['p-logs-2026.10.28', 'p-logs-2026.10.29']);
  });

  it('covers the daily indices of the prefix and carries the lifecycle settings', () => {
    const template = logsIndexTemplate('shop', { replicas: 0, lifecycleSettings: { 'index.lifecycle.name': 'shop-logs-retention' } });
    assert.deepEqual(template.index_patterns, ['shop-logs-*']);
    assert.equal(template.template.settings['index.lifecycle.name'], 'shop-logs-retention');
    assert.equal(template.template.mappings.properties.source.properties.ip.type, 'ip');
    assert.equal(template.template.mappings.properties['@timestamp'].type, 'date');
  });

  it('fills node config templates and refuses a placeholder without a value', () => {
    assert.equal(
      renderTemplate('http.port: {{httpPort}}\npath.data: "{{data}}"', { httpPort: 9200, data: '/d' }),
      'http.port: 9200\npath.data: "/d"',
    );
    assert.throws(() => renderTemplate('x: {{missing}}', {}), /\{\{missing\}\}/);
  });
});
