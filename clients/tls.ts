// What every client shares about TLS: reading the PEM files the configuration names, and turning
// a failed handshake into one error that says which side's certificate is the problem and which
// configuration key fixes it.
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { ConfigError, LogstreamError } from '../config/errors.js';

/** The PEM file a configuration key names; a ConfigError naming the key when it cannot be read. */
export function readPemFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(`${key}: cannot read ${path}: ${reason}`, { key, file: path, cause: error });
  }
}

/** The server's certificate could not be verified. */
const SERVER_CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The server refused this client's certificate, or wanted one and got none (TLS alerts from the server). */
const CLIENT_CERTIFICATE_ALERT =
  /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|UNKNOWN_CA|UNSUPPORTED_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|ACCESS_DENIED|HANDSHAKE_FAILURE|DECRYPT_ERROR)$/;

/** The other end does not speak TLS (a plaintext port). */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

export type TlsFailureSide = 'server-certificate' | 'client-certificate' | 'not-tls';

/** The TLS failure code somewhere in an error's cause chain, with the side it is about. */
export function tlsFailureOf(error: unknown): { code: string; side: TlsFailureSide; message: string } | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 8; depth += 1) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') {
      const text = opensslReason(typeof message === 'string' ? message : code);
      if (SERVER_CERTIFICATE_CODES.has(code)) return { code, side: 'server-certificate', message: text };
      if (CLIENT_CERTIFICATE_ALERT.test(code)) return { code, side: 'client-certificate', message: text };
      if (NOT_TLS_CODES.has(code)) return { code, side: 'not-tls', message: text };
    }
    current = cause;
  }
  return undefined;
}

/** "80CC…:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:…c:1601:…" -> "sslv3 alert bad certificate" */
function opensslReason(message: string): string {
  const match = /SSL routines:[^:]*:([^:]+):/.exec(message);
  return match ? match[1]! : message.trim();
}

export interface TlsKeys {
  /** Configuration key of the CA bundle, e.g. kafka.tls_ca_file. */
  ca: string;
  /** Configuration keys of the client certificate and key, where the service takes one. */
  cert?: string;
  key?: string;
  /** How to turn TLS off, e.g. "set kafka.security_protocol to PLAINTEXT". */
  turnOff?: string;
}

/** A TLS handshake failed: the message says whose certificate and the hint which keys to set. */
export class TlsHandshakeError extends LogstreamError {
  readonly service: string;
  readonly address: string;
  readonly code: string;
  readonly side: TlsFailureSide;

  constructor(service: string, address: string, failure: { code: string; side: TlsFailureSide; message: string }, keys: TlsKeys) {
    const what =
      failure.side === 'server-certificate'
        ? `the certificate of ${service} at ${address} cannot be verified`
        : failure.side === 'client-certificate'
          ? `${service} at ${address} refused the TLS handshake: it wants a client certificate it trusts`
          : `${address} does not speak TLS (is it the plaintext port of ${service}?)`;
    const hint =
      failure.side === 'server-certificate'
        ? `set ${keys.ca} to the CA bundle (PEM) that signed the server's certificate, and check that the server's name matches its certificate`
        : failure.side === 'client-certificate'
          ? keys.cert
            ? `set ${keys.cert} and ${keys.key} to a client certificate signed by a CA the server trusts`
            : 'this client cannot present a certificate to this service'
          : `point the address at the TLS port, or ${keys.turnOff ?? 'turn TLS off'}`;
    super(`${what}: ${failure.message} (${failure.code})`, { hint });
    this.service = service;
    this.address = address;
    this.code = failure.code;
    this.side = failure.side;
  }
}

export interface TlsProbeOptions {
  host: string;
  port: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
  timeoutMs?: number;
}

/**
 * One TLS handshake with the server, to tell a certificate problem at once (clients that retry
 * connection errors would otherwise retry it for a minute). Resolves the failure, or undefined
 * when the handshake succeeds or the server cannot be reached at all (the caller reports that).
 */
export function probeTls(options: TlsProbeOptions): Promise<{ code: string; side: TlsFailureSide; message: string } | undefined> {
  return new Promise((resolve) => {
    const startedMs = Date.now();
    const socket = connect({
      host: options.host,
      port: options.port,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      servername: options.servername ?? (/^[\d.]+$|:/.test(options.host) ? undefined : options.host),
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    });
    let tcpConnected = false;
    let secured = false;
    const done = (result: { code: string; side: TlsFailureSide; message: string } | undefined) => {
      socket.destroy();
      resolve(result);
    };
    // Accepted the connection, then hung up on the TLS hello: a plaintext port.
    const hungUp = () =>
      tcpConnected && !secured
        ? { code: 'ECONNRESET', side: 'not-tls' as const, message: 'the server closed the connection on the TLS hello' }
        : undefined;
    socket.setTimeout(options.timeoutMs ?? 3_000, () => done(undefined));
    socket.once('connect', () => {
      tcpConnected = true;
    });
    // TLS 1.3 servers check the client certificate after the client's handshake is done, so a refusal
    // arrives as an alert one round trip later: wait as long as the handshake took (at least 100 ms).
    socket.once('secureConnect', () => {
      secured = true;
      setTimeout(() => done(undefined), Math.max(100, Date.now() - startedMs));
    });
    socket.once('error', (error) => done(tlsFailureOf(error) ?? hungUp()));
    socket.once('end', () => done(hungUp()));
  });
}
