// The one seam between the search module and a client library: a JSON request to a REST path
// both engines share. Each library still does what it is for (connections, serialization, auth,
// the Elasticsearch product check); what differs between engines stays in the two files behind it.
import type { SearchEngineKind } from './errors.js';

export interface EngineRequest {
  /** Said in errors: "opensearch refused <operation> …". */
  operation: string;
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';
  path: string;
  querystring?: Record<string, string | number | boolean>;
  body?: unknown;
  /** NDJSON lines for _bulk; each entry becomes one line. */
  bulkBody?: readonly unknown[];
  /** Status codes returned as a response instead of thrown (e.g. 404 for "does not exist"). */
  ignoreStatus?: number[];
  /** Abandon the request after this long (default: the engine's request timeout). */
  timeoutMs?: number;
}

export interface EngineResponse {
  statusCode: number;
  body: unknown;
}

export interface SearchEngine {
  readonly kind: SearchEngineKind;
  readonly url: string;
  /**
   * Sends one request. Throws SearchUnavailableError when the engine cannot be reached or times out,
   * SearchRequestError when it answers with an error status not listed in ignoreStatus.
   */
  request(request: EngineRequest): Promise<EngineResponse>;
  close(): Promise<void>;
}

export interface EngineSettings {
  url: string;
  username?: string;
  password?: string;
  requestTimeoutMs: number;
}

/** `type` and `reason` of an engine's error body, for one-line messages. */
export function describeErrorBody(body: unknown): { type: string; reason: string } {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'string') return { type: 'error', reason: error };
    if (typeof error === 'object' && error !== null) {
      const { type, reason } = error as { type?: unknown; reason?: unknown };
      return { type: typeof type === 'string' ? type : 'error', reason: typeof reason === 'string' ? reason : JSON.stringify(error) };
    }
  }
  if (typeof body === 'string' && body) return { type: 'error', reason: body.slice(0, 300) };
  return { type: 'error', reason: JSON.stringify(body ?? null).slice(0, 300) };
}
