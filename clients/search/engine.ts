// The one seam between the search module and a client library: a JSON request to a REST path
// both engines share. Each library still does what it is for (connections, serialization, auth,
// the Elasticsearch product check); what differs between engines stays in the two files behind it.
import { probeTls, TlsHandshakeError } from '../tls.js';
import { SearchUnavailableError, type SearchEngineKind } from './errors.js';

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
  /** The engine's URL without credentials. */
  url: string;
  username?: string;
  password?: string;
  /** Elasticsearch API key (the base64 "encoded" form). */
  apiKey?: string;
  /** CA bundle (PEM) for an https URL; Node's built-in CAs when absent. */
  ca?: Buffer;
  /** Verify the server's certificate (default true). */
  tlsVerify?: boolean;
  requestTimeoutMs: number;
}

/** How the client authenticates, for messages ("as user x", "with an API key"). */
export function describeCredentials(settings: EngineSettings): string {
  if (settings.apiKey) return 'with an API key';
  if (settings.username) return `as user "${settings.username}"`;
  return 'without credentials';
}

const searchTlsKeys = { ca: 'elasticsearch.tls_ca_file', turnOff: 'write elasticsearch.host with http://' };

/**
 * The error for a request that never got an answer: a TLS handshake problem (the client libraries
 * keep only the message, so one handshake of our own tells which), else the engine is unreachable.
 */
export async function connectionFailure(kind: SearchEngineKind, settings: EngineSettings, error: Error): Promise<Error> {
  const url = new URL(settings.url);
  if (url.protocol === 'https:') {
    const failure = await probeTls({
      host: url.hostname,
      port: Number(url.port || 443),
      ca: settings.ca,
      rejectUnauthorized: settings.tlsVerify ?? true,
      timeoutMs: 3_000,
    });
    if (failure) return new TlsHandshakeError(kind, settings.url, failure, searchTlsKeys);
  }
  return new SearchUnavailableError(kind, settings.url, error.message, error);
}

/** An HTML error page (from a proxy in front of the engine) as its title; other text as one line. */
function plainText(body: string): string {
  const title = /<title>([^<]*)<\/title>/i.exec(body);
  return (title ? title[1]! : body).replace(/\s+/g, ' ').trim();
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
  if (typeof body === 'string' && body) return { type: 'error', reason: plainText(body).slice(0, 300) };
  return { type: 'error', reason: JSON.stringify(body ?? null).slice(0, 300) };
}
