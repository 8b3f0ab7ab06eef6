// OpenSearch behind the SearchEngine seam, through @opensearch-project/opensearch.
import { Client, errors } from '@opensearch-project/opensearch';
import {
  connectionFailure,
  describeCredentials,
  describeErrorBody,
  type EngineRequest,
  type EngineResponse,
  type EngineSettings,
  type SearchEngine,
} from './engine.js';
import { SearchAuthenticationError, SearchRequestError } from './errors.js';

export function createOpenSearchEngine(settings: EngineSettings): SearchEngine {
  const client = new Client({
    node: settings.url,
    auth: settings.username ? { username: settings.username, password: settings.password ?? '' } : undefined,
    ssl: { ca: settings.ca, rejectUnauthorized: settings.tlsVerify ?? true },
    // bulkIndex retries what is worth retrying itself; a library retry would hide a dead engine for longer.
    maxRetries: 0,
    requestTimeout: settings.requestTimeoutMs,
  });

  async function request(call: EngineRequest): Promise<EngineResponse> {
    try {
      const response = await client.transport.request(
        { method: call.method, path: call.path, querystring: call.querystring, body: call.body as never, bulkBody: call.bulkBody as never },
        { ignore: call.ignoreStatus, requestTimeout: call.timeoutMs },
      );
      return { statusCode: response.statusCode ?? 0, body: response.body };
    } catch (error) {
      if (error instanceof errors.ResponseError) {
        const statusCode = error.meta.statusCode ?? 0;
        const { type, reason } = describeErrorBody(error.meta.body);
        if (statusCode === 401)
          throw new SearchAuthenticationError('opensearch', settings.url, describeCredentials(settings), reason, error);
        throw new SearchRequestError('opensearch', call.operation, statusCode, type, reason, error);
      }
      if (
        error instanceof errors.ConnectionError ||
        error instanceof errors.TimeoutError ||
        error instanceof errors.NoLivingConnectionsError
      ) {
        throw await connectionFailure('opensearch', settings, error);
      }
      throw error;
    }
  }

  return { kind: 'opensearch', url: settings.url, request, close: () => client.close() };
}
