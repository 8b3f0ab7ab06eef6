// Serves the metrics registry on http://host:port/metrics for Prometheus to scrape.
import { createServer, type Server } from 'node:http';
import { LogstreamError } from '../../config/errors.js';
import { registry } from './registry.js';

export async function serveMetrics(port: number, host = '0.0.0.0'): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('see /metrics\n');
      return;
    }
    registry
      .metrics()
      .then((body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body))
      .catch((error: Error) => response.writeHead(500).end(`${error.message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LogstreamError(`cannot serve metrics on port ${port}: ${error.code === 'EADDRINUSE' ? 'port in use' : error.message}`, {
          hint: 'set prometheus.metrics_port (or LOGSTREAM_PROMETHEUS_METRICS_PORT) to a free port',
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  return server;
}
