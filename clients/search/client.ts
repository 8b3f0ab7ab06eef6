// The search client the pipeline uses: one API over OpenSearch and Elasticsearch.
import { setTimeout as delay } from 'node:timers/promises';
import type { PipelineConfig } from '../../config/schema.js';
import { resolveSecret, splitUrlCredentials } from '../../config/secrets.js';
import { readPemFile } from '../tls.js';
import {
  bulkLines,
  readBulkItems,
  retryDelayMs,
  isRetryableStatus,
  type BulkResult,
  type DocumentFailure,
  type DocumentOutcome,
} from './bulk.js';
import { logsIndexPattern, type IndexedDocument } from './document.js';
import type { EngineSettings, SearchEngine } from './engine.js';
import { SearchEngineMismatchError, SearchRequestError, SearchUnavailableError, type SearchEngineKind } from './errors.js';
import { deleteExpiredIndices, setUpRetention, type LifecycleMode } from './lifecycle.js';
import { logsIndexTemplate, logsTemplateName, mappingVersion } from './template.js';

export interface SearchClientOptions {
  /** Daily logs indices older than this are deleted (ILM, ISM or client-side sweep). Default 30. */
  retentionDays?: number;
  /** Replicas of the logs indices. Default 0, which keeps a one-node engine green. */
  replicas?: number;
  requestTimeoutMs?: number;
  /** `_bulk` attempts per document before a retryable failure is reported as failed. Default 4. */
  maxAttempts?: number;
  /** Delay before the second attempt; doubles each time. Default 200 ms. */
  retryBaseDelayMs?: number;
}

export interface SearchHealth {
  engine: SearchEngineKind;
  url: string;
  version: string;
  status: 'green' | 'yellow' | 'red';
  numberOfNodes: number;
}

export interface TemplateSetup {
  templateName: string;
  indexPattern: string;
  mappingVersion: number;
  lifecycle: LifecycleMode;
  policyName: string;
  /** Indices deleted by the client-side retention sweep (client-side mode only). */
  deletedIndices: string[];
}

export type SearchQuery = Readonly<Record<string, unknown>>;

export interface SearchRequestBody {
  query?: SearchQuery;
  aggs?: Readonly<Record<string, unknown>>;
  size?: number;
  from?: number;
  sort?: unknown;
  track_total_hits?: boolean | number;
  _source?: boolean | string[];
}

export interface SearchHit<TSource> {
  id: string;
  index: string;
  source: TSource;
}

export interface SearchResult<TSource> {
  total: number;
  hits: Array<SearchHit<TSource>>;
  aggregations: Record<string, unknown>;
}

export interface BulkIndexOptions {
  /** Make the documents searchable before returning (tests); the pipeline leaves this off. */
  refresh?: boolean;
}

export interface SearchClient {
  readonly kind: SearchEngineKind;
  readonly url: string;
  readonly indexPrefix: string;
  /** Pattern of every logs index of this prefix, e.g. web-logs-logs-*. */
  readonly logsIndexPattern: string;
  health(): Promise<SearchHealth>;
  /** Installs (or updates) the retention policy and the composable template of the logs indices. Idempotent. */
  ensureIndexTemplate(): Promise<TemplateSetup>;
  bulkIndex(documents: readonly IndexedDocument[], options?: BulkIndexOptions): Promise<BulkResult>;
  countDocuments(indexPattern?: string, query?: SearchQuery): Promise<number>;
  search<TSource = Record<string, unknown>>(indexPattern: string, body: SearchRequestBody): Promise<SearchResult<TSource>>;
  refresh(indexPattern?: string): Promise<void>;
  /** Client-side retention sweep; a no-op where ILM/ISM does it. Returns deleted index names. */
  applyRetention(nowMs?: number): Promise<string[]>;
  /** Deletes indices by exact name or pattern (tests, `reset`); missing ones are fine. */
  deleteIndices(indexPattern: string): Promise<void>;
  close(): Promise<void>;
}

// Tolerate patterns that match nothing yet: counting an empty day is 0, not an error.
const lenientIndices = { ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'open' } as const;

function indexPath(indexPattern: string): string {
  return indexPattern.split(',').map(encodeURIComponent).join(',');
}

/** The search settings a client needs; auth and TLS keys are optional (anonymous, Node's CAs). */
export type SearchSettings = Pick<PipelineConfig['elasticsearch'], 'host' | 'kind'> &
  Partial<Pick<PipelineConfig['elasticsearch'], 'username' | 'password' | 'api_key' | 'tls_ca_file' | 'tls_verify'>>;

/**
 * The engine for config.elasticsearch: credentials from the keys (secrets resolved now) or from
 * the URL's user info, which never stays in the URL the client shows in messages.
 */
export function createSearchEngine(config: SearchSettings, requestTimeoutMs = 30_000): SearchEngine {
  const fromUrl = splitUrlCredentials(config.host);
  const settings = {
    url: fromUrl.url.replace(/\/+$/, ''),
    username: resolveSecret(config.username, 'elasticsearch.username') ?? fromUrl.username,
    password: resolveSecret(config.password, 'elasticsearch.password') ?? fromUrl.password,
    apiKey: resolveSecret(config.api_key, 'elasticsearch.api_key'),
    ca: config.tls_ca_file ? readPemFile(config.tls_ca_file, 'elasticsearch.tls_ca_file') : undefined,
    tlsVerify: config.tls_verify ?? true,
    requestTimeoutMs,
  };
  return loadedOnFirstRequest(config.kind, settings);
}

/**
 * The engine, with its client library imported on the first request: the two libraries take
 * about 0.4 s to load, which a streamer with search off (and every command that never searches)
 * would otherwise spend at start-up.
 */
function loadedOnFirstRequest(kind: SearchEngineKind, settings: EngineSettings): SearchEngine {
  let engine: Promise<SearchEngine> | undefined;
  const loaded = () =>
    (engine ??=
      kind === 'elasticsearch'
        ? import('./elasticsearchEngine.js').then((module) => module.createElasticsearchEngine(settings))
        : import('./openSearchEngine.js').then((module) => module.createOpenSearchEngine(settings)));
  return {
    kind,
    url: settings.url,
    request: async (request) => (await loaded()).request(request),
    close: async () => {
      if (engine) await (await engine).close();
    },
  };
}

/** The search client for config.elasticsearch: OpenSearch or Elasticsearch by config.elasticsearch.kind. */
export function createSearchClient(
  config: { elasticsearch: SearchSettings & Pick<PipelineConfig['elasticsearch'], 'index_prefix'> },
  options: SearchClientOptions = {},
): SearchClient {
  const engine = createSearchEngine(config.elasticsearch, options.requestTimeoutMs);
  return searchClientOver(engine, config.elasticsearch.index_prefix, options);
}

/** The client over an engine already made (tests inject an engine at an address of their choice). */
export function searchClientOver(engine: SearchEngine, indexPrefix: string, options: SearchClientOptions = {}): SearchClient {
  const retentionDays = options.retentionDays ?? 30;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const retryBaseDelayMs = options.retryBaseDelayMs ?? 200;
  const ownPattern = logsIndexPattern(indexPrefix);
  let lifecycleMode: LifecycleMode | undefined;

  async function health(): Promise<SearchHealth> {
    const root = (await engine.request({ operation: 'GET /', method: 'GET', path: '/' })).body as {
      version?: { number?: string; distribution?: string };
    };
    const distribution = root.version?.distribution ?? 'elasticsearch';
    if (distribution !== engine.kind) throw new SearchEngineMismatchError(engine.kind, engine.url, distribution);
    const cluster = (await engine.request({ operation: 'GET /_cluster/health', method: 'GET', path: '/_cluster/health' })).body as {
      status: 'green' | 'yellow' | 'red';
      number_of_nodes: number;
    };
    return {
      engine: engine.kind,
      url: engine.url,
      version: root.version?.number ?? 'unknown',
      status: cluster.status,
      numberOfNodes: cluster.number_of_nodes,
    };
  }

  async function ensureIndexTemplate(): Promise<TemplateSetup> {
    const lifecycle = await setUpRetention(engine, indexPrefix, retentionDays);
    lifecycleMode = lifecycle.mode;
    const templateName = logsTemplateName(indexPrefix);
    await engine.request({
      operation: `PUT _index_template/${templateName}`,
      method: 'PUT',
      path: `/_index_template/${encodeURIComponent(templateName)}`,
      body: logsIndexTemplate(indexPrefix, { replicas: options.replicas ?? 0, lifecycleSettings: lifecycle.templateSettings }),
    });
    const deletedIndices =
      lifecycle.mode === 'client-side' ? await deleteExpiredIndices(engine, indexPrefix, retentionDays, Date.now()) : [];
    return {
      templateName,
      indexPattern: ownPattern,
      mappingVersion,
      lifecycle: lifecycle.mode,
      policyName: lifecycle.policyName,
      deletedIndices,
    };
  }

  async function sendBulk(documents: readonly IndexedDocument[], refresh: boolean): Promise<Array<DocumentFailure | undefined>> {
    const response = await engine.request({
      operation: '_bulk',
      method: 'POST',
      path: '/_bulk',
      bulkBody: bulkLines(documents),
      querystring: refresh ? { refresh: 'true' } : undefined,
    });
    return readBulkItems(response.body, documents.length);
  }

  async function bulkIndex(documents: readonly IndexedDocument[], bulkOptions: BulkIndexOptions = {}): Promise<BulkResult> {
    const outcomes: Array<DocumentOutcome | undefined> = new Array(documents.length);
    let pending = documents.map((_document, position) => position);
    let requests = 0;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > 1) await delay(retryDelayMs(attempt, retryBaseDelayMs));
      const lastAttempt = attempt >= maxAttempts;
      let failures: Array<DocumentFailure | undefined>;
      try {
        requests += 1;
        failures = await sendBulk(
          pending.map((position) => documents[position]!),
          bulkOptions.refresh ?? false,
        );
      } catch (error) {
        // The whole request failed: retry it while the failure may pass, then let the caller know.
        const retryable =
          error instanceof SearchUnavailableError || (error instanceof SearchRequestError && isRetryableStatus(error.statusCode));
        if (retryable && !lastAttempt) continue;
        throw error;
      }
      const stillPending: number[] = [];
      failures.forEach((failure, slot) => {
        const position = pending[slot]!;
        const { id, index } = documents[position]!;
        if (!failure) outcomes[position] = { id, index, status: 'indexed', attempts: attempt };
        else if (failure.retryable && !lastAttempt) stillPending.push(position);
        else outcomes[position] = { id, index, status: 'failed', attempts: attempt, error: failure };
      });
      pending = stillPending;
    }
    const finished = outcomes as DocumentOutcome[];
    const indexed = finished.filter((outcome) => outcome.status === 'indexed').length;
    return { indexed, failed: finished.length - indexed, outcomes: finished, requests };
  }

  async function countDocuments(indexPattern = ownPattern, query?: SearchQuery): Promise<number> {
    const response = await engine.request({
      operation: `_count on ${indexPattern}`,
      method: 'POST',
      path: `/${indexPath(indexPattern)}/_count`,
      querystring: lenientIndices,
      body: query ? { query } : undefined,
    });
    return (response.body as { count: number }).count;
  }

  async function search<TSource>(indexPattern: string, body: SearchRequestBody): Promise<SearchResult<TSource>> {
    const response = await engine.request({
      operation: `_search on ${indexPattern}`,
      method: 'POST',
      path: `/${indexPath(indexPattern)}/_search`,
      querystring: { ...lenientIndices, rest_total_hits_as_int: true },
      body,
    });
    const answer = response.body as {
      hits: { total: number; hits: Array<{ _id: string; _index: string; _source: TSource }> };
      aggregations?: Record<string, unknown>;
    };
    return {
      total: answer.hits.total,
      hits: answer.hits.hits.map((hit) => ({ id: hit._id, index: hit._index, source: hit._source })),
      aggregations: answer.aggregations ?? {},
    };
  }

  async function refresh(indexPattern = ownPattern): Promise<void> {
    await engine.request({
      operation: `_refresh on ${indexPattern}`,
      method: 'POST',
      path: `/${indexPath(indexPattern)}/_refresh`,
      querystring: lenientIndices,
    });
  }

  async function applyRetention(nowMs = Date.now()): Promise<string[]> {
    lifecycleMode ??= (await setUpRetention(engine, indexPrefix, retentionDays)).mode;
    if (lifecycleMode !== 'client-side') return [];
    return deleteExpiredIndices(engine, indexPrefix, retentionDays, nowMs);
  }

  async function deleteIndices(indexPattern: string): Promise<void> {
    await engine.request({
      operation: `DELETE ${indexPattern}`,
      method: 'DELETE',
      path: `/${indexPath(indexPattern)}`,
      querystring: { ignore_unavailable: true, allow_no_indices: true },
      ignoreStatus: [404],
    });
  }

  return {
    kind: engine.kind,
    url: engine.url,
    indexPrefix,
    logsIndexPattern: ownPattern,
    health,
    ensureIndexTemplate,
    bulkIndex,
    countDocuments,
    search,
    refresh,
    applyRetention,
    deleteIndices,
    close: () => engine.close(),
  };
}
