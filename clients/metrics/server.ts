// Serves the metrics registry on http(s)://host:port/metrics for Prometheus to scrape: on loopback
// unless told otherwise, with optional basic auth and TLS for a Prometheus on another machine.
import { timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { LogstreamError } from '../../config/errors.js';
import type { PipelineConfig } from '../../config/schema.js';
import { resolveSecret } from '../../config/secrets.js';
import { readPemFile } from '../tls.js';
import { registry } from './registry.js';

export interface MetricsServerOptions {
  port: number;
  /** Default 127.0.0.1: metrics say a lot about the traffic; expose them on purpose. */
  host?: string;
  /** Basic auth scrapers must send. */
  username?: string;
  password?: string;
  /** PEM certificate (chain) and key: serve https. */
  tlsCert?: Buffer;
  tlsKey?: Buffer;
}

/** The options of prometheus.metrics_* (the password resolved now, the PEM files read). */
export function metricsServerOptions(prometheus: PipelineConfig['prometheus']): MetricsServerOptions {
  return {
    port: prometheus.metrics_port,
    host: prometheus.metrics_host,
    username: resolveSecret(prometheus.metrics_username, 'prometheus.metrics_username'),
    password: resolveSecret(prometheus.metrics_password, 'prometheus.metrics_password'),
    tlsCert: prometheus.metrics_tls_cert_file
      ? readPemFile(prometheus.metrics_tls_cert_file, 'prometheus.metrics_tls_cert_file')
      : undefined,
    tlsKey: prometheus.metrics_tls_key_file ? readPemFile(prometheus.metrics_tls_key_file, 'prometheus.metrics_tls_key_file') : undefined,
  };
}

/** Constant-time comparison of the Authorization header with the expected basic credentials. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (!header) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function serveMetrics(options: MetricsServerOptions): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const expected =
    options.username === undefined
      ? undefined
      : Buffer.from(`Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`);
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    if (expected && !authorized(request.headers.authorization, expected)) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="logstream metrics"' }).end('unauthorized\n');
      return;
    }
    if (request.url !== '/metrics') {
      response.writeHead(404).end('see /metrics\n');
      return;
    }
    registry
      .metrics()
      .then((body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body))
      .catch((error: Error) => response.writeHead(500).end(`${error.message}\n`));
  };
  const server =
    options.tlsCert && options.tlsKey
      ? createHttpsServer({ cert: options.tlsCert, key: options.tlsKey }, handle)
      : createHttpServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LogstreamError(
          `cannot serve metrics on ${host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'port in use' : error.code === 'EADDRNOTAVAIL' ? 'no such local address' : error.message}`,
          {
            hint: 'set prometheus.metrics_port (LOGSTREAM_PROMETHEUS_METRICS_PORT) to a free port, and prometheus.metrics_host to an address of this machine',
          },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  return server;
}
