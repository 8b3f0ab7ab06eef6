// The stack's Prometheus: a /metrics endpoint started by the test is discovered through a
// file_sd target file, scraped, and answers a PromQL query.
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { prometheusTargetsDir } from '../../infra/stack/services/prometheus.js';
import { freePort, isExternalService, requireService, uniqueName, waitFor } from '../helpers/stack.js';

interface QueryResponse {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

test('a target written into the targets folder is scraped and its metric answers a PromQL query', { timeout: 90_000 }, async (t) => {
  if (isExternalService('prometheus'))
    return t.skip('prometheus.url points at an external Prometheus, which does not read the stack targets folder');
  const config = await requireService('prometheus');
  const run = uniqueName('stack-test');
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    response.end(
      `# HELP logstream_stack_test_value A constant exported by the stack test.\n# TYPE logstream_stack_test_value gauge\nlogstream_stack_test_value{run="${run}"} 42\n`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const targetsDir = prometheusTargetsDir(config.stack.state_dir);
  mkdirSync(targetsDir, { recursive: true });
  const targetFile = join(targetsDir, `${run}.json`);
  // Written under a temporary name and renamed, so Prometheus never reads half a file.
  writeFileSync(`${targetFile}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { run } }]));
  renameSync(`${targetFile}.tmp`, targetFile);
  try {
    const query = encodeURIComponent(`logstream_stack_test_value{run="${run}"}`);
    const result = await waitFor(
      'Prometheus to scrape the test target',
      async () => {
        const response = await fetch(`${config.prometheus.url.replace(/\/$/, '')}/api/v1/query?query=${query}`, {
          signal: AbortSignal.timeout(5000),
        });
        const body = (await response.json()) as QueryResponse;
        return body.status === 'success' && body.data.result.length > 0 ? body.data.result : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.equal(result.length, 1);
    assert.equal(result[0]!.value[1], '42');
    assert.equal(result[0]!.metric.job, 'logstream-targets');
    assert.equal(result[0]!.metric.instance, `127.0.0.1:${port}`);
  } finally {
    rmSync(targetFile, { force: true });
    await new Promise((resolve) => server.close(resolve));
  }
});
