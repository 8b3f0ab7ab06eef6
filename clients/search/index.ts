// The only module that talks to Elasticsearch or OpenSearch.
export { createSearchClient, createSearchEngine, searchClientOver } from './client.js';
export type {
  BulkIndexOptions,
  SearchClient,
  SearchClientOptions,
  SearchHealth,
  SearchHit,
  SearchQuery,
  SearchRequestBody,
  SearchResult,
  SearchSettings,
  TemplateSetup,
} from './client.js';
export type { BulkResult, DocumentFailure, DocumentOutcome } from './bulk.js';
export { documentId, logsIndexName, logsIndexPattern, toIndexedDocument, toSearchDocument } from './document.js';
export type { AnomalyVerdict, IndexedDocument, SearchDocument } from './document.js';
export type { SearchEngine } from './engine.js';
export { SearchAuthenticationError, SearchEngineMismatchError, SearchRequestError, SearchUnavailableError } from './errors.js';
export { TlsHandshakeError } from '../tls.js';
export type { SearchEngineKind } from './errors.js';
export type { LifecycleMode } from './lifecycle.js';
export { logsIndexTemplate, logsMapping, logsTemplateName } from './template.js';
