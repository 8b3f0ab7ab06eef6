// Elasticsearch behind the SearchEngine seam, through @elastic/elasticsearch (which refuses servers
// that are not Elasticsearch: that shows up as SearchEngineMismatchError, not as a retryable failure).
import { Client, errors } from '@elastic/elasticsearch';
import {
  connectionFailure,
  describeCredentials,
  describeErrorBody,
  type EngineRequest,
  type EngineResponse,
  type EngineSettings,
  type SearchEngine,
} from './engine.js';
import { SearchAuthenticationError, SearchEngineMismatchError, SearchRequestError } from './errors.js';

export function createElasticsearchEngine(settings: EngineSettings): SearchEngine {
  const client = new Client({
    node: settings.url,
    auth: settings.apiKey
      ? { apiKey: settings.apiKey }
      : settings.username
        ? { username: settings.username, password: settings.password ?? '' }
        : undefined,
    tls: { ca: settings.ca, rejectUnauthorized: settings.tlsVerify ?? true },
    // bulkIndex retries what is worth retrying itself; a library retry would hide a dead engine for longer.
    maxRetries: 0,
    requestTimeout: settings.requestTimeoutMs,
  });

  async function request(call: EngineRequest): Promise<EngineResponse> {
    try {
      const response = await client.transport.request(
        { method: call.method, path: call.path, querystring: call.querystring, body: call.body as never, bulkBody: call.bulkBody as never },
        { ignore: call.ignoreStatus, requestTimeout: call.timeoutMs, meta: true },
      );
      return { statusCode: response.statusCode ?? 0, body: response.body };
    } catch (error) {
      if (error instanceof errors.ProductNotSupportedError) {
        throw new SearchEngineMismatchError('elasticsearch', settings.url, 'a server without the x-elastic-product: Elasticsearch header');
      }
      if (error instanceof errors.ResponseError) {
        const { type, reason } = describeErrorBody(error.body);
        if (error.statusCode === 401)
          throw new SearchAuthenticationError('elasticsearch', settings.url, describeCredentials(settings), reason, error);
        throw new SearchRequestError('elasticsearch', call.operation, error.statusCode ?? 0, type, reason, error);
      }
      if (
        error instanceof errors.ConnectionError ||
        error instanceof errors.TimeoutError ||
        error instanceof errors.NoLivingConnectionsError
      ) {
        throw await connectionFailure('elasticsearch', settings, error);
      }
      throw error;
    }
  }

  return { kind: 'elasticsearch', url: settings.url, request, close: () => client.close() };
}
