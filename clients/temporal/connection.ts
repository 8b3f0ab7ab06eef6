// The only place that opens connections to Temporal: a Client for commands and
// activities, a NativeConnection for workers. Both take TLS, mTLS and API keys from temporal.*
// (secrets resolved when connecting) and fail fast with the address named.
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { PipelineConfig } from '../../config/schema.js';
import { resolveSecret } from '../../config/secrets.js';
import { probeTls, readPemFile, TlsHandshakeError } from '../tls.js';
import { TemporalAuthenticationError, TemporalUnreachableError } from './errors.js';

type TemporalConfig = PipelineConfig['temporal'];

export type TemporalSettings = Pick<TemporalConfig, 'address' | 'namespace'> &
  Partial<Pick<TemporalConfig, 'tls' | 'tls_ca_file' | 'tls_cert_file' | 'tls_key_file' | 'tls_server_name' | 'api_key'>>;

const CONNECT_TIMEOUT_MS = 3_000;

const temporalTlsKeys = {
  ca: 'temporal.tls_ca_file',
  cert: 'temporal.tls_cert_file',
  key: 'temporal.tls_key_file',
  turnOff: 'set temporal.tls to false',
};

/** TLS is on when asked for, or (unset) as soon as a TLS file or an API key is configured, as the SDK does. */
export function temporalUsesTls(settings: TemporalSettings): boolean {
  return (
    settings.tls ??
    (settings.tls_ca_file !== undefined ||
      settings.tls_cert_file !== undefined ||
      settings.tls_server_name !== undefined ||
      settings.api_key !== undefined)
  );
}

/** The `address`, `tls` and `apiKey` options both connection kinds take. */
export function temporalConnectionOptions(settings: TemporalSettings): { address: string; tls: TLSConfig | false; apiKey?: string } {
  const apiKey = resolveSecret(settings.api_key, 'temporal.api_key');
  if (!temporalUsesTls(settings)) return { address: settings.address, tls: false, ...(apiKey ? { apiKey } : {}) };
  const tls: TLSConfig = {
    ...(settings.tls_server_name ? { serverNameOverride: settings.tls_server_name } : {}),
    ...(settings.tls_ca_file ? { serverRootCACertificate: readPemFile(settings.tls_ca_file, 'temporal.tls_ca_file') } : {}),
    ...(settings.tls_cert_file && settings.tls_key_file
      ? {
          clientCertPair: {
            crt: readPemFile(settings.tls_cert_file, 'temporal.tls_cert_file'),
            key: readPemFile(settings.tls_key_file, 'temporal.tls_key_file'),
          },
        }
      : {}),
  };
  return { address: settings.address, tls, ...(apiKey ? { apiKey } : {}) };
}

/** gRPC UNAUTHENTICATED and PERMISSION_DENIED. */
const AUTH_CODES = new Set([16, 7]);

/** The gRPC status code and the HTTP status a proxy answered with, from anywhere in the cause chain. */
function describeFailure(error: unknown): { code?: number; httpStatus?: number; text: string } {
  let code: number | undefined;
  let httpStatus: number | undefined;
  const texts: string[] = [];
  for (let current: unknown = error, depth = 0; current && depth < 6; depth += 1) {
    const { code: found, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof found === 'number') code ??= found;
    if (typeof message === 'string') {
      texts.push(message);
      // grpc-js: "Received HTTP status code 401"; the worker's Rust client: "status: 401 Unauthorized".
      const status = /(?:HTTP status code|status:) (\d{3})\b/.exec(message);
      if (status) httpStatus ??= Number(status[1]);
    }
    current = cause;
  }
  return { code, httpStatus, text: texts.join(': ') };
}

/**
 * The typed error for a failed connect: refused credentials, a TLS problem (told by one handshake
 * of our own, since the gRPC stacks keep only a message), else the server is unreachable.
 */
export async function temporalConnectError(settings: TemporalSettings, error: unknown): Promise<Error> {
  if (error instanceof Error && error.name === 'ConfigError') return error;
  const failure = describeFailure(error);
  const usesTls = temporalUsesTls(settings);
  if ((failure.code !== undefined && AUTH_CODES.has(failure.code)) || failure.httpStatus === 401 || failure.httpStatus === 403) {
    return new TemporalAuthenticationError(
      settings.address,
      settings.api_key !== undefined ? 'api-key' : 'none',
      failure.httpStatus,
      error,
    );
  }
  // A gRPC server never answers 400 to a well-formed call; a TLS-terminating proxy (nginx) does when
  // the client certificate is missing or not signed by a CA it trusts.
  if (usesTls && failure.httpStatus === 400) {
    return new TemporalAuthenticationError(settings.address, 'client-certificate', failure.httpStatus, error);
  }
  if (usesTls) {
    const separator = settings.address.lastIndexOf(':');
    const options = temporalConnectionOptions(settings);
    const tls = options.tls === false ? undefined : options.tls;
    const handshake = await probeTls({
      host: settings.address.slice(0, separator),
      port: Number(settings.address.slice(separator + 1)),
      servername: tls?.serverNameOverride,
      ca: tls?.serverRootCACertificate ? Buffer.from(tls.serverRootCACertificate) : undefined,
      cert: tls?.clientCertPair ? Buffer.from(tls.clientCertPair.crt) : undefined,
      key: tls?.clientCertPair ? Buffer.from(tls.clientCertPair.key) : undefined,
    });
    if (handshake) return new TlsHandshakeError('Temporal', settings.address, handshake, temporalTlsKeys);
  }
  return new TemporalUnreachableError(settings.address, error);
}

/** A client connected to `temporal.address`; throws TemporalUnreachableError when nothing answers. */
export async function connectClient(settings: TemporalSettings): Promise<Client> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw await temporalConnectError(settings, error);
  }
  return new Client({ connection, namespace: settings.namespace });
}

/** The connection a Worker polls through. */
export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(temporalConnectionOptions(settings));
  } catch (error) {
    throw await temporalConnectError(settings, error);
  }
}

/** True when the frontend answers its gRPC health check as SERVING. Never throws. */
export async function temporalHealthy(settings: TemporalSettings, timeoutMs = 2000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(settings), connectTimeout: timeoutMs });
    const response = await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
    );
    return response.status === 1; // SERVING
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Closes the client's connection; safe to call twice. */
export async function closeClient(client: Client): Promise<void> {
  await client.connection.close().catch(() => undefined);
}

/** Runs `use` with a connected client and always closes it. */
export async function withClient<T>(settings: TemporalSettings, use: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(settings);
  try {
    return await use(client);
  } finally {
    await closeClient(client);
  }
}
