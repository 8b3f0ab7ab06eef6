// The search clients through the stack's nginx TLS fronts: OpenSearch with basic auth and
// Elasticsearch with an API key or basic auth, certificates verified against the stack's CA;
// wrong credentials and an unknown CA fail with typed errors that say which keys to fix.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createSearchClient,
  SearchAuthenticationError,
  TlsHandshakeError,
  type SearchClient,
  type SearchSettings,
} from '../../clients/search/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { nginxFronts } from '../../infra/stack/services/nginx.js';
import { fileReference, stackTls } from '../helpers/secured.js';
import { isExternalService, requireService, uniqueName } from '../helpers/stack.js';

const external = isExternalService('opensearch');
let config: PipelineConfig;
const clients: SearchClient[] = [];

function client(settings: SearchSettings, indexPrefix = uniqueName('search-auth')): SearchClient {
  const created = createSearchClient(
    { elasticsearch: { ...settings, index_prefix: indexPrefix } },
    { requestTimeoutMs: 10_000, maxAttempts: 1 },
  );
  clients.push(created);
  return created;
}

function opensearch(overrides: Partial<SearchSettings> = {}): SearchSettings {
  const fronts = nginxFronts(config);
  return {
    host: fronts.opensearchUrl,
    kind: 'opensearch',
    username: fronts.searchUsername,
    password: fileReference(fronts.searchPasswordFile),
    tls_ca_file: stackTls(config).ca,
    ...overrides,
  };
}

function elasticsearch(overrides: Partial<SearchSettings> = {}): SearchSettings {
  const fronts = nginxFronts(config);
  return {
    host: fronts.elasticsearchUrl,
    kind: 'elasticsearch',
    api_key: fileReference(fronts.elasticsearchApiKeyFile),
    tls_ca_file: stackTls(config).ca,
    ...overrides,
  };
}

async function failure(settings: SearchSettings): Promise<Error> {
  try {
    await client(settings).health();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the request to be refused');
}

async function indexAndCount(search: SearchClient): Promise<number> {
  const index = `${search.indexPrefix}-logs-2026.01.01`;
  const result = await search.bulkIndex(
    [
      { index, id: 'a', document: { message: 'through the TLS front' } },
      { index, id: 'b', document: { message: 'with credentials' } },
    ],
    { refresh: true },
  );
  assert.equal(result.failed, 0, JSON.stringify(result.outcomes));
  return search.countDocuments();
}

describe('search engines behind TLS and authentication', { skip: external && 'elasticsearch.host points at an engine of your own' }, () => {
  before(async () => {
    config = await requireService('nginx');
    await requireService('opensearch', config);
  });

  after(async () => {
    for (const search of clients) {
      await search.deleteIndices(search.logsIndexPattern).catch(() => undefined);
      await search.close().catch(() => undefined);
    }
  });

  test('OpenSearch over https with basic auth: health, bulk indexing and counting', async () => {
    const search = client(opensearch());
    const health = await search.health();
    assert.equal(health.engine, 'opensearch');
    assert.equal(search.url, nginxFronts(config).opensearchUrl);
    assert.equal(await indexAndCount(search), 2);
  });

  test('a wrong or missing password is refused with the user named and the keys to check', async () => {
    for (const settings of [opensearch({ password: 'not-the-password' }), opensearch({ username: undefined, password: undefined })]) {
      const error = await failure(settings);
      assert.ok(error instanceof SearchAuthenticationError, `${error.name}: ${error.message}`);
      assert.match(
        error.message,
        /opensearch at https:\/\/127\.0\.0\.1:\d+ refused the credentials \(HTTP 401, (as user "logstream"|without credentials)\)/,
      );
      assert.match(error.hint ?? '', /elasticsearch\.password/);
      assert.ok(!error.message.includes('not-the-password'));
    }
  });

  test('the certificate is verified by default: a CA the client does not know fails the TLS handshake', async () => {
    const error = await failure(opensearch({ tls_ca_file: undefined }));
    assert.ok(error instanceof TlsHandshakeError, `${error.name}: ${error.message}`);
    assert.equal(error.side, 'server-certificate');
    assert.match(error.hint ?? '', /elasticsearch\.tls_ca_file/);
    // tls_verify false is the explicit way out for a throwaway engine.
    assert.equal((await client(opensearch({ tls_ca_file: undefined, tls_verify: false })).health()).engine, 'opensearch');
  });

  test('Elasticsearch over https with an API key, and with basic auth', async (t) => {
    if (
      !(await requireService('elasticsearch', config).then(
        () => true,
        () => false,
      ))
    )
      return t.skip('elasticsearch is not running (logstream stack up elasticsearch)');
    const withKey = client(elasticsearch());
    assert.equal((await withKey.health()).engine, 'elasticsearch');
    assert.equal(await indexAndCount(withKey), 2);
    const fronts = nginxFronts(config);
    const withPassword = client(
      elasticsearch({ api_key: undefined, username: fronts.searchUsername, password: fileReference(fronts.searchPasswordFile) }),
    );
    assert.equal((await withPassword.health()).engine, 'elasticsearch');
    const wrongKey = await failure(elasticsearch({ api_key: Buffer.from('logstream-stack:wrong').toString('base64') }));
    assert.ok(wrongKey instanceof SearchAuthenticationError, `${wrongKey.name}: ${wrongKey.message}`);
    assert.match(wrongKey.message, /HTTP 401, with an API key/);
    assert.match(wrongKey.hint ?? '', /elasticsearch\.api_key/);
  });
});
