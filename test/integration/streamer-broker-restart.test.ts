// The Kafka broker restarts mid-run: the streamer rides it out and nothing is lost or doubled.
// The test runs its own one-node broker (the stack's Kafka install, its own ports and data folder)
// so restarting it disturbs no other test.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { clusterIdArgument, newClusterId } from '../../infra/stack/services/kafka.js';
import { freePort, stackConfig, waitFor } from '../helpers/stack.js';
import {
  generatedMessages,
  produce,
  startStreamer,
  streamerFixture,
  tableKeys,
  tableRowCount,
  type StreamerFixture,
} from './streamer-support.js';

// The restart makes kafkajs log connection errors by design; keep the test output readable.
process.env.LOGSTREAM_LOG_LEVEL ??= 'fatal';

let config: PipelineConfig;
let fixture: StreamerFixture | undefined;
let broker: { start(): Promise<void>; stop(): Promise<void> } | undefined;
const kafkaLibs = join(stackConfig().stack.cache_dir, 'kafka', 'libs');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function dedicatedBroker(): Promise<{ port: number; start(): Promise<void>; stop(): Promise<void> }> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const folder = await mkdtemp(join(tmpdir(), 'broker-restart-'));
  const properties = join(folder, 'server.properties');
  await writeFile(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
      `log.dirs=${join(folder, 'data')}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const classpath = `${kafkaLibs}/*`;
  const format = spawnSync(
    'java',
    ['-cp', classpath, 'kafka.tools.StorageTool', 'format', clusterIdArgument(newClusterId()), '-c', properties, '--standalone'],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`kafka storage format failed: ${format.stderr}`);
  let child: ChildProcess | undefined;
  return {
    port,
    async start() {
      const log = openSync(join(folder, 'broker.log'), 'a');
      child = spawn('java', ['-Xmx512m', '-cp', classpath, 'kafka.Kafka', properties], { stdio: ['ignore', log, log] });
      await waitFor(`the test broker on port ${port}`, () => portOpen(port), { timeoutMs: 60_000, intervalMs: 200 });
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      await waitFor(`port ${port} to close`, async () => !(await portOpen(port)), { timeoutMs: 30_000 });
    },
  };
}

before(async () => {
  if (!existsSync(kafkaLibs)) return;
  const dedicated = await dedicatedBroker();
  broker = dedicated;
  await dedicated.start();
  config = { ...stackConfig(), kafka: { ...stackConfig().kafka, servers: `127.0.0.1:${dedicated.port}` } };
  fixture = await streamerFixture(config, 'streamer-broker-restart');
});

after(async () => {
  await fixture?.kafka.close().catch(() => undefined);
  await broker?.stop();
});

test('Kafka broker restarted mid-run: the streamer recovers, every message lands exactly once', async (t) => {
  if (!fixture || !broker) {
    t.skip(`no Kafka install at ${kafkaLibs}: run \`logstream stack up kafka\` once`);
    return;
  }
  const { streamer, done } = await startStreamer(fixture, config);
  try {
    await produce(fixture.kafka, fixture.topic, generatedMessages(20_000, 41));
    await waitFor('rows before the restart', async () => (await tableRowCount(fixture!.deltaRoot, 'logs')) > 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });

    await broker.stop();
    await broker.start();
    await produce(fixture.kafka, fixture.topic, generatedMessages(20_000, 42));
    await waitFor('all 40,000 rows after the restart', async () => (await tableRowCount(fixture!.deltaRoot, 'logs')) >= 40_000, {
      timeoutMs: 180_000,
      intervalMs: 500,
    });
  } finally {
    await streamer.stop();
    await done.catch(() => undefined);
  }
  const keys = await tableKeys(fixture.deltaRoot, 'logs');
  assert.equal(keys.length, 40_000, 'no duplicates');
  const offsets = await fixture.kafka.topicOffsets(fixture.topic);
  const expected = new Set(
    offsets.flatMap((partition) => Array.from({ length: Number(partition.high) }, (_, offset) => `${partition.partition}:${offset}`)),
  );
  assert.equal(expected.size, 40_000);
  assert.deepEqual(new Set(keys), expected);
});
