// The search client against both real engines of the stack: OpenSearch (the configured engine,
// 127.0.0.1:9200 by default) and Elasticsearch 7.17 (127.0.0.1:9201).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { elasticsearchService } from '../../infra/stack/services/elasticsearch.js';
import {
  createSearchClient,
  documentId,
  logsIndexName,
  SearchEngineMismatchError,
  SearchUnavailableError,
  toIndexedDocument,
  type SearchClient,
} from '../../clients/search/index.js';
import type { LogRecord } from '../../logs/record.js';
import { freePort, requireService, stackConfig, uniqueName } from '../helpers/stack.js';

const dayMs = 86_400_000;
const today = Math.floor(Date.now() / dayMs) * dayMs;

/** A deterministic batch: `count` records over two days, three client IPs, statuses 200/404/500. */
function records(count: number, topic: string): LogRecord[] {
  return Array.from({ length: count }, (_, offset) => ({
    timestampMs: today - (offset % 2) * dayMs + offset * 1000,
    clientIp: ['198.51.100.1', '198.51.100.2', '2001:db8::7'][offset % 3]!,
    method: offset % 4 === 0 ? 'POST' : 'GET',
    path: `/products/${offset}`,
    query: offset % 5 === 0 ? `page=${offset}` : null,
    pathTemplate: '/products/{id}',
    status: [200, 200, 404, 500][offset % 4]!,
    responseTimeMs: 10 + (offset % 10),
    responseBytes: 100 + offset,
    referrer: null,
    userAgent: 'Mozilla/5.0',
    label: 'normal',
    topic,
    partition: offset % 3,
    offset: BigInt(offset),
    kafkaTimestampMs: Date.now(),
    ingestTimeMs: Date.now(),
  }));
}

// Responses are read field by field in assertions; an index signature of unknowns would need a cast at each.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON from the engine, checked by the assertions themselves
type JsonBody = any;

async function getJson(url: string): Promise<{ status: number; body: JsonBody }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

function searchEngineSuite(engineName: 'opensearch' | 'elasticsearch', engineConfig: () => Promise<PipelineConfig>): void {
  describe(`search client on ${engineName}`, () => {
    let config: PipelineConfig;
    let client: SearchClient;
    const topic = uniqueName('search-test');

    before(async () => {
      config = await engineConfig();
      client = createSearchClient(config, { retentionDays: 30 });
    });

    after(async () => {
      await client?.deleteIndices(client.logsIndexPattern).catch(() => undefined);
      await client?.close();
    });

    it('answers health as the expected engine', async () => {
      const health = await client.health();
      assert.equal(health.engine, config.elasticsearch.kind);
      assert.ok(['green', 'yellow'].includes(health.status), health.status);
      assert.ok(health.numberOfNodes >= 1);
    });

    it('installs the composable template, and new daily indices take its mapping', async () => {
      const setup = await client.ensureIndexTemplate();
      assert.equal(setup.indexPattern, `${config.elasticsearch.index_prefix}-logs-*`);
      const template = await getJson(`${client.url}/_index_template/${setup.templateName}`);
      assert.equal(template.status, 200);
      assert.deepEqual(template.body.index_templates[0].index_template.index_patterns, [setup.indexPattern]);
      // Installing again is harmless.
      assert.equal((await client.ensureIndexTemplate()).templateName, setup.templateName);

      const [first] = records(1, topic);
      const result = await client.bulkIndex([toIndexedDocument(client.indexPrefix, first!)]);
      assert.equal(result.indexed, 1);
      const index = logsIndexName(client.indexPrefix, first!.timestampMs);
      const mapping = await getJson(`${client.url}/${index}/_mapping`);
      const properties = mapping.body[index].mappings.properties;
      assert.equal(properties['@timestamp'].type, 'date');
      assert.equal(properties.source.properties.ip.type, 'ip');
      assert.equal(properties.http.properties.response.properties.status_code.type, 'long');
      assert.equal(properties.url.properties.path.type, 'keyword');
      assert.equal(properties.logstream.properties.response_time_ms.type, 'float');
      assert.equal(properties.logstream.properties.anomaly.properties.score.type, 'float');
    });

    it('indexes a batch into daily indices under deterministic ids; the same batch again does not duplicate', async () => {
      const batch = records(300, topic).map((record) =>
        toIndexedDocument(client.indexPrefix, record, {
          score: record.status === 500 ? 4.2 : 0.4,
          isAnomaly: record.status === 500,
          cluster: 1,
          modelVersion: '3',
        }),
      );
      const first = await client.bulkIndex(batch, { refresh: true });
      assert.equal(first.indexed, 300);
      assert.equal(first.failed, 0);
      assert.equal(await client.countDocuments(), 300);

      const again = await client.bulkIndex(batch, { refresh: true });
      assert.equal(again.indexed, 300);
      assert.equal(await client.countDocuments(), 300, 're-indexing overwrote instead of adding');

      const indices = await getJson(`${client.url}/_cat/indices/${client.logsIndexPattern}?format=json&h=index`);
      assert.deepEqual(indices.body.map((row: { index: string }) => row.index).sort(), [
        logsIndexName(client.indexPrefix, today - dayMs),
        logsIndexName(client.indexPrefix, today),
      ]);
      const sample = records(300, topic)[7]!;
      const stored = await getJson(`${client.url}/${logsIndexName(client.indexPrefix, sample.timestampMs)}/_doc/${documentId(sample)}`);
      assert.equal(stored.body.found, true);
      assert.equal(stored.body._source.url.path, '/products/7');
    });

    it('finds documents by a term query and aggregates them', async () => {
      assert.equal(await client.countDocuments(client.logsIndexPattern, { term: { 'source.ip': '2001:db8::7' } }), 100);
      const result = await client.search<{ http: { response: { status_code: number } } }>(client.logsIndexPattern, {
        size: 5,
        query: { bool: { filter: [{ term: { 'http.response.status_code': 500 } }, { term: { 'logstream.anomaly.is_anomaly': true } }] } },
        aggs: {
          statuses: { terms: { field: 'http.response.status_code', size: 10 } },
          per_day: { date_histogram: { field: '@timestamp', calendar_interval: 'day' } },
          slowest_ms: { max: { field: 'logstream.response_time_ms' } },
        },
      });
      assert.equal(result.total, 75);
      assert.equal(result.hits.length, 5);
      assert.ok(result.hits.every((hit) => hit.source.http.response.status_code === 500));
      const buckets = (result.aggregations.statuses as { buckets: Array<{ key: number; doc_count: number }> }).buckets;
      assert.deepEqual(
        buckets.map((bucket) => [bucket.key, bucket.doc_count]),
        [[500, 75]],
      );
      const days = (result.aggregations.per_day as { buckets: Array<{ doc_count: number }> }).buckets;
      assert.equal(
        days.reduce((sum, bucket) => sum + bucket.doc_count, 0),
        75,
      );
      assert.equal((result.aggregations.slowest_ms as { value: number }).value, 19);

      const all = await client.search(client.logsIndexPattern, {
        size: 0,
        aggs: { statuses: { terms: { field: 'http.response.status_code' } } },
      });
      const allBuckets = (all.aggregations.statuses as { buckets: Array<{ key: number; doc_count: number }> }).buckets;
      assert.deepEqual(Object.fromEntries(allBuckets.map((bucket) => [bucket.key, bucket.doc_count])), { 200: 150, 404: 75, 500: 75 });
    });

    it('reports a bad document as failed with its reason without failing the others', async () => {
      const [good1, good2] = records(2, `${topic}-mixed`).map((record) => toIndexedDocument(client.indexPrefix, record));
      const bad = { ...good1!, id: `${topic}-bad`, document: { ...good1!.document, http: { response: { status_code: 'not-a-number' } } } };
      const result = await client.bulkIndex([good1!, bad, good2!], { refresh: true });
      assert.equal(result.indexed, 2);
      assert.equal(result.failed, 1);
      assert.deepEqual(
        result.outcomes.map((outcome) => outcome.status),
        ['indexed', 'failed', 'indexed'],
      );
      const failure = result.outcomes[1]!;
      assert.ok(failure.status === 'failed');
      assert.equal(failure.error.statusCode, 400);
      assert.equal(failure.error.type, 'mapper_parsing_exception');
      assert.match(failure.error.reason, /status_code/);
      assert.equal(failure.error.retryable, false);
      assert.equal(failure.attempts, 1, 'a mapping error is not retried');
      assert.equal(await client.countDocuments(client.logsIndexPattern, { term: { 'logstream.kafka.topic': `${topic}-mixed` } }), 2);
    });

    it('applies retention: an expired daily index goes, recent ones stay', async () => {
      const setup = await client.ensureIndexTemplate();
      const old = { ...records(1, `${topic}-old`)[0]!, timestampMs: today - 40 * dayMs };
      assert.equal((await client.bulkIndex([toIndexedDocument(client.indexPrefix, old)], { refresh: true })).indexed, 1);
      const oldIndex = logsIndexName(client.indexPrefix, old.timestampMs);
      if (setup.lifecycle === 'client-side') {
        assert.deepEqual(await client.applyRetention(), [oldIndex]);
        assert.equal((await fetch(`${client.url}/${oldIndex}`, { method: 'HEAD' })).status, 404);
      } else {
        // ILM / ISM delete on their own schedule; the policy must exist.
        const policyPath = setup.lifecycle === 'ilm' ? `_ilm/policy/${setup.policyName}` : `_plugins/_ism/policies/${setup.policyName}`;
        assert.equal((await getJson(`${client.url}/${policyPath}`)).status, 200);
      }
      assert.ok((await client.countDocuments()) >= 300, 'recent indices are kept');
    });

    it('fails fast with a clear error when nothing listens at the address', async () => {
      const port = await freePort();
      const down = createSearchClient(
        { elasticsearch: { ...config.elasticsearch, host: `http://127.0.0.1:${port}` } },
        { maxAttempts: 3, retryBaseDelayMs: 50, requestTimeoutMs: 5000 },
      );
      const started = Date.now();
      await assert.rejects(down.health(), (error: unknown) => {
        assert.ok(error instanceof SearchUnavailableError);
        assert.match(error.message, new RegExp(`^${engineName} at http://127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`));
        assert.match(error.hint ?? '', /logstream stack up/);
        return true;
      });
      const [record] = records(1, topic);
      await assert.rejects(down.bulkIndex([toIndexedDocument(down.indexPrefix, record!)]), SearchUnavailableError);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      await down.close();
    });
  });
}

searchEngineSuite('opensearch', async () => {
  const base = stackConfig();
  await requireService('opensearch', base);
  return { ...base, elasticsearch: { ...base.elasticsearch, index_prefix: uniqueName('search-test-os') } };
});

searchEngineSuite('elasticsearch', async () => {
  const base = stackConfig();
  await requireService('elasticsearch', base);
  return {
    ...base,
    elasticsearch: {
      ...base.elasticsearch,
      kind: 'elasticsearch',
      host: elasticsearchService.url(base),
      username: undefined,
      password: undefined,
      index_prefix: uniqueName('search-test-es'),
    },
  };
});

describe('engine mismatch', () => {
  it('says so clearly when elasticsearch.kind does not match the engine at the address', async () => {
    const base = stackConfig();
    await requireService('opensearch', base);
    if (base.elasticsearch.kind !== 'opensearch') return;
    const wrong = createSearchClient({ elasticsearch: { ...base.elasticsearch, kind: 'elasticsearch' } });
    await assert.rejects(wrong.health(), SearchEngineMismatchError);
    await wrong.close();
  });
});
