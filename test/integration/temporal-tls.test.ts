// Temporal through the stack's nginx gRPC fronts (the dev server has no TLS of its own): mutual TLS
// with the stack's CA and client certificate, and an API key over TLS, as Temporal Cloud takes them.
// A client and a worker connect through clients/temporal and run a workflow; a missing or foreign
// client certificate and a wrong API key fail at once with typed errors.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { closeClient, connectClient, connectWorker, temporalHealthy, type TemporalSettings } from '../../clients/temporal/connection.js';
import { TemporalAuthenticationError } from '../../clients/temporal/errors.js';
import { TlsHandshakeError } from '../../clients/tls.js';
import type { PipelineConfig } from '../../config/schema.js';
import { generateCertificateAuthority } from '../../infra/stack/credentials.js';
import { nginxFronts } from '../../infra/stack/services/nginx.js';
import * as activities from './fixtures/greetingActivities.js';
import { fileReference, stackTls } from '../helpers/secured.js';
import { isExternalService, requireService, uniqueName } from '../helpers/stack.js';

Runtime.install({ logger: new DefaultLogger('WARN') });

const external = isExternalService('temporal');
let config: PipelineConfig;

function mutualTls(overrides: Partial<TemporalSettings> = {}): TemporalSettings {
  const tls = stackTls(config);
  return {
    address: nginxFronts(config).temporalMutualTlsAddress,
    namespace: config.temporal.namespace,
    tls_ca_file: tls.ca,
    tls_cert_file: tls.clientCert,
    tls_key_file: tls.clientKey,
    // The certificate is for localhost and 127.0.0.1; SNI takes names, not addresses.
    tls_server_name: 'localhost',
    ...overrides,
  };
}

function apiKey(key?: string): TemporalSettings {
  return {
    address: nginxFronts(config).temporalApiKeyAddress,
    namespace: config.temporal.namespace,
    tls_ca_file: stackTls(config).ca,
    tls_server_name: 'localhost',
    api_key: key ?? fileReference(nginxFronts(config).temporalApiKeyFile),
  };
}

/** A greeting workflow run by a worker and started by a client, both through the given settings. */
async function greet(settings: TemporalSettings): Promise<string> {
  const taskQueue = uniqueName('temporal-tls');
  const workerConnection = await connectWorker(settings);
  const client = await connectClient(settings);
  try {
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: settings.namespace,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('./fixtures/greetingWorkflow.ts', import.meta.url)),
      activities,
    });
    return await worker.runUntil(async () => {
      const handle = await client.workflow.start('greetingWorkflow', { taskQueue, workflowId: uniqueName('temporal-tls'), args: ['tls'] });
      return handle.result();
    });
  } finally {
    await closeClient(client);
    await workerConnection.close();
  }
}

async function refusals(settings: TemporalSettings): Promise<Error[]> {
  const errors: Error[] = [];
  for (const connect of [
    () => connectClient(settings).then(closeClient),
    () => connectWorker(settings).then((connection) => connection.close()),
  ]) {
    try {
      await connect();
      assert.fail('expected the connection to be refused');
    } catch (error) {
      errors.push(error as Error);
    }
  }
  return errors;
}

describe('Temporal over TLS', { skip: external && 'temporal.address points at a server of your own', timeout: 180_000 }, () => {
  before(async () => {
    config = await requireService('nginx');
    await requireService('temporal', config);
  });

  test('a worker and a client with a client certificate (mTLS) run a workflow', async () => {
    assert.equal(await temporalHealthy(mutualTls()), true);
    assert.equal(await greet(mutualTls()), 'hello, tls');
  });

  test('a worker and a client with an API key run a workflow', async () => {
    assert.equal(await greet(apiKey()), 'hello, tls');
  });

  test('without a client certificate, or with one from another CA, the mTLS front refuses client and worker', async () => {
    const rogue = await generateCertificateAuthority(mkdtempSync(join(tmpdir(), 'temporal-rogue-ca-')), 'Not the stack CA');
    for (const settings of [
      mutualTls({ tls_cert_file: undefined, tls_key_file: undefined }),
      mutualTls({ tls_cert_file: rogue.clientCert, tls_key_file: rogue.clientKey }),
    ]) {
      for (const error of await refusals(settings)) {
        assert.ok(error instanceof TemporalAuthenticationError, `${error.name}: ${error.message}`);
        assert.match(error.message, /client certificate is missing or not signed by a CA the server trusts/);
        assert.match(error.hint ?? '', /temporal\.tls_cert_file and temporal\.tls_key_file/);
      }
    }
  });

  test('a server certificate from an unknown CA, and a wrong API key, are named as such', async () => {
    for (const error of await refusals(mutualTls({ tls_ca_file: undefined }))) {
      assert.ok(error instanceof TlsHandshakeError, `${error.name}: ${error.message}`);
      assert.equal(error.side, 'server-certificate');
      assert.match(error.hint ?? '', /temporal\.tls_ca_file/);
    }
    for (const error of await refusals(apiKey('not-the-key'))) {
      assert.ok(error instanceof TemporalAuthenticationError, `${error.name}: ${error.message}`);
      assert.match(error.message, /refused the API key/);
      assert.ok(!error.message.includes('not-the-key'));
    }
  });
});
