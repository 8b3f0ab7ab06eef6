// The worker's /metrics endpoint: loopback by default, basic auth and https when configured.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Agent, fetch } from 'undici';
import { metricsServerOptions, serveMetrics } from '../../clients/metrics/server.js';
import { configSchema } from '../../config/schema.js';
import { ensureStackTls } from '../../infra/stack/credentials.js';
import { freePort } from '../helpers/stack.js';

describe('the /metrics server', () => {
  it('listens on 127.0.0.1 by default and serves the registry', async () => {
    const config = configSchema.parse({ prometheus: { metrics_port: await freePort() } });
    const server = await serveMetrics(metricsServerOptions(config.prometheus));
    try {
      const address = server.address() as AddressInfo;
      assert.equal(address.address, '127.0.0.1');
      const response = await fetch(`http://127.0.0.1:${address.port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /# TYPE /);
    } finally {
      server.close();
    }
  });

  it('asks for basic auth and serves https with the configured certificate', async () => {
    const state = mkdtempSync(join(tmpdir(), 'logstream-metrics-tls-'));
    const tls = await ensureStackTls(state);
    const port = await freePort();
    const config = configSchema.parse({
      prometheus: {
        metrics_port: port,
        metrics_username: 'scraper',
        metrics_password: `\${env:METRICS_TEST_PASSWORD}`,
        metrics_tls_cert_file: tls.serverCert,
        metrics_tls_key_file: tls.serverKey,
      },
    });
    process.env.METRICS_TEST_PASSWORD = 'scrape-secret';
    const server = await serveMetrics(metricsServerOptions(config.prometheus));
    const dispatcher = new Agent({ connect: { ca: readFileSync(tls.ca) } });
    const url = `https://127.0.0.1:${port}/metrics`;
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    try {
      const anonymous = await fetch(url, { dispatcher });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);
      assert.equal((await fetch(url, { dispatcher, headers: { authorization: basic('scraper', 'wrong') } })).status, 401);
      const scraped = await fetch(url, { dispatcher, headers: { authorization: basic('scraper', 'scrape-secret') } });
      assert.equal(scraped.status, 200);
      assert.match(await scraped.text(), /# TYPE /);
      await assert.rejects(fetch(url), 'a client without the CA does not trust the certificate');
    } finally {
      server.close();
      await dispatcher.close();
      delete process.env.METRICS_TEST_PASSWORD;
    }
  });
});
