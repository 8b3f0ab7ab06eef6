// Kafka through the stack broker's secured listeners: SASL_SSL with PLAIN, SCRAM-SHA-256 and
// SCRAM-SHA-512 (the broker's certificate verified against the stack's CA), and SSL with a client
// certificate; wrong credentials and certificates fail at once with typed errors that say why.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createKafkaClient,
  KafkaAuthenticationError,
  TlsHandshakeError,
  type ConsumedMessage,
  type KafkaClient,
  type KafkaSettings,
} from '../../clients/kafka/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { generateCertificateAuthority } from '../../infra/stack/credentials.js';
import { kafkaStackSecurity } from '../../infra/stack/services/kafka.js';
import { fileReference, stackTls } from '../helpers/secured.js';
import { isExternalService, requireService, uniqueName, waitFor } from '../helpers/stack.js';

const external = isExternalService('kafka');
let config: PipelineConfig;
let admin: KafkaClient;
const topic = uniqueName('kafka-auth');

function sasl(mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password?: string): KafkaSettings {
  const security = kafkaStackSecurity(config);
  return {
    servers: security.saslSslServers,
    client_id: uniqueName('kafka-auth'),
    security_protocol: 'SASL_SSL',
    sasl_mechanism: mechanism,
    sasl_username: security.username,
    sasl_password: password ?? fileReference(mechanism === 'PLAIN' ? security.plainPasswordFile : security.scramPasswordFile),
    tls_ca_file: stackTls(config).ca,
  };
}

function mutualTls(certificate?: { cert: string; key: string }): KafkaSettings {
  return {
    servers: kafkaStackSecurity(config).sslServers,
    client_id: uniqueName('kafka-mtls'),
    security_protocol: 'SSL',
    tls_ca_file: stackTls(config).ca,
    ...(certificate ? { tls_cert_file: certificate.cert, tls_key_file: certificate.key } : {}),
  };
}

async function rejection(settings: KafkaSettings): Promise<Error> {
  const client = createKafkaClient(settings, { retries: 2, quiet: true });
  try {
    await client.createProducer();
  } catch (error) {
    return error as Error;
  } finally {
    await client.close().catch(() => undefined);
  }
  assert.fail('expected the connection to be refused');
}

async function consumeAll(settings: KafkaSettings, count: number): Promise<string[]> {
  const client = createKafkaClient(settings);
  const received: ConsumedMessage[] = [];
  const consumer = client.createConsumer({ groupId: uniqueName('kafka-auth-reader') });
  try {
    await consumer.start(topic, { onAssigned: () => undefined, onBatch: async (batch) => void received.push(...batch.messages) });
    await waitFor(`${count} messages through ${settings.security_protocol}`, () => received.length >= count, { timeoutMs: 60_000 });
    return received.map((message) => message.value!.toString()).sort();
  } finally {
    await consumer.stop();
    await client.close();
  }
}

describe('Kafka authentication and TLS', {
  skip: external && 'kafka.servers points at a broker of your own, without the stack listeners',
}, () => {
  before(async () => {
    config = await requireService('kafka');
    admin = createKafkaClient(sasl('SCRAM-SHA-512'));
    await admin.ensureTopic(topic, 1);
  });

  after(async () => {
    await admin?.deleteTopic(topic).catch(() => undefined);
    await admin?.close();
  });

  test('produces with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and a client certificate, and consumes over SASL_SSL and SSL', async () => {
    const producers: Array<[string, KafkaSettings]> = [
      ['PLAIN', sasl('PLAIN')],
      ['SCRAM-SHA-256', sasl('SCRAM-SHA-256')],
      ['SCRAM-SHA-512', sasl('SCRAM-SHA-512')],
      ['client-certificate', mutualTls({ cert: stackTls(config).clientCert, key: stackTls(config).clientKey })],
    ];
    for (const [name, settings] of producers) {
      const client = createKafkaClient(settings);
      const producer = await client.createProducer();
      await producer.send(topic, [{ value: `via ${name}` }]);
      await producer.close();
      await client.close();
    }
    const expected = producers.map(([name]) => `via ${name}`).sort();
    assert.deepEqual(await consumeAll(sasl('SCRAM-SHA-256'), 4), expected);
    assert.deepEqual(await consumeAll(mutualTls({ cert: stackTls(config).clientCert, key: stackTls(config).clientKey }), 4), expected);
  });

  test('a wrong password names the broker, the mechanism and the user', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-512'] as const) {
      const error = await rejection(sasl(mechanism, 'not-the-password'));
      assert.ok(error instanceof KafkaAuthenticationError, `${mechanism}: ${error.name}: ${error.message}`);
      assert.ok(error.message.includes(kafkaStackSecurity(config).saslSslServers), error.message);
      assert.match(error.message, new RegExp(`SASL ${mechanism} authentication as user "logstream"`));
      assert.ok(!error.message.includes('not-the-password'));
      assert.match(error.hint ?? '', /kafka\.sasl_password/);
    }
  });

  test('a broker certificate from a CA the client does not know is refused at once', async () => {
    const started = Date.now();
    const error = await rejection({ ...sasl('PLAIN'), tls_ca_file: undefined });
    assert.ok(error instanceof TlsHandshakeError, `${error.name}: ${error.message}`);
    assert.equal(error.side, 'server-certificate');
    assert.match(error.message, /certificate of Kafka at 127\.0\.0\.1:\d+ cannot be verified/);
    assert.match(error.hint ?? '', /kafka\.tls_ca_file/);
    assert.ok(Date.now() - started < 10_000, 'no minute of retries');
  });

  test('the mutual-TLS listener refuses a client without a certificate, or with one from another CA', async () => {
    const missing = await rejection(mutualTls());
    assert.ok(missing instanceof TlsHandshakeError, `${missing.name}: ${missing.message}`);
    assert.equal(missing.side, 'client-certificate');
    assert.match(missing.hint ?? '', /kafka\.tls_cert_file and kafka\.tls_key_file/);
    const rogue = await generateCertificateAuthority(mkdtempSync(join(tmpdir(), 'kafka-rogue-ca-')), 'Not the stack CA');
    const foreign = await rejection(mutualTls({ cert: rogue.clientCert, key: rogue.clientKey }));
    assert.ok(foreign instanceof TlsHandshakeError && foreign.side === 'client-certificate', `${foreign.name}: ${foreign.message}`);
  });
});
