// Exactly once under crashes: 200,000 logs, the `logstream stream` process SIGKILLed at random
// points at least five times and restarted; in the end every (partition, offset) is in the logs
// table exactly once and the search index holds the same number of documents.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { createSearchClient, type SearchClient } from '../../clients/search/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { logstreamArgs } from '../../cli/nodeFlags.js';
import { requireService, uniqueName, waitFor } from '../helpers/stack.js';
import { generatedMessages, streamerFixture, tableKeys, tableRowCount, type StreamerFixture } from './streamer-support.js';

const TOTAL = 200_000;
const KILLS = 5;
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

let config: PipelineConfig;
let fixture: StreamerFixture;
let search: SearchClient;
let indexPrefix: string;
const children = new Set<ChildProcess>();

before(async () => {
  config = await requireService('kafka');
  await requireService('opensearch', config).catch(async () => requireService('elasticsearch', config));
  fixture = await streamerFixture(config, 'streamer-sigkill');
  indexPrefix = uniqueName('sigkill');
  search = createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: indexPrefix } });
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await search?.deleteIndices(search.logsIndexPattern).catch(() => undefined);
  await search?.close();
  await fixture?.kafka.deleteTopic(fixture.topic).catch(() => undefined);
  await fixture?.kafka.close();
});

function startStreamProcess(): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, logstreamArgs('stream', '--topic', fixture.topic, '--group', fixture.groupId), {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      LOGSTREAM_KAFKA_SERVERS: config.kafka.servers,
      LOGSTREAM_DELTA_ROOT: fixture.deltaRoot,
      LOGSTREAM_ELASTICSEARCH_INDEX_PREFIX: indexPrefix,
      LOGSTREAM_KAFKA_DLQ_TOPIC: fixture.dlqTopic,
      LOGSTREAM_KAFKA_ANOMALIES_TOPIC: fixture.anomaliesTopic,
      LOGSTREAM_STREAMING_BATCH_MAX_WAIT_MS: '500',
      LOGSTREAM_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.stdout!.resume();
  const exited = once(child, 'exit').then(([code]) => {
    children.delete(child);
    return code as number | null;
  });
  return { child, exited, stderr: () => stderr };
}

async function searchCount(): Promise<number> {
  await search.refresh(search.logsIndexPattern);
  return search.countDocuments(search.logsIndexPattern);
}

test('200,000 logs, the streamer SIGKILLed 5 times: every (partition, offset) in Delta exactly once, search count equal', async () => {
  // The logs arrive as a trickle of 1,000 a second while the kills happen and the rest at once after
  // them: a streamer that drains a burst faster than it can be killed five times would leave
  // nothing to crash in the middle of.
  const messages = generatedMessages(TOTAL, 2024);
  let killing = true;
  const producing = (async () => {
    const producer = await fixture.kafka.createProducer();
    try {
      for (let sent = 0; sent < messages.length; ) {
        const size = killing ? 1000 : 5000;
        await producer.send(fixture.topic, messages.slice(sent, sent + size));
        sent += size;
        if (killing) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    } finally {
      await producer.close();
    }
  })();

  let rowsBefore = 0;
  const rowsAtKill: number[] = [];
  for (let kill = 1; kill <= KILLS; kill += 1) {
    const run = startStreamProcess();
    // Kill only once this run has committed something, at a random moment after that.
    rowsBefore = await waitFor(
      `run ${kill} to commit rows`,
      async () => {
        const rows = await tableRowCount(fixture.deltaRoot, 'logs');
        return rows > rowsBefore ? rows : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 1500)));
    run.child.kill('SIGKILL');
    assert.equal(await run.exited, null, 'killed by a signal');
    rowsAtKill.push(await tableRowCount(fixture.deltaRoot, 'logs'));
    rowsBefore = rowsAtKill[rowsAtKill.length - 1]!;
  }
  killing = false;
  assert.ok(rowsAtKill[rowsAtKill.length - 1]! < TOTAL, `the kills happened before the end (rows at each kill: ${rowsAtKill.join(', ')})`);
  await producing;
  const offsets = await fixture.kafka.topicOffsets(fixture.topic);
  assert.equal(
    offsets.reduce((sum, partition) => sum + Number(partition.high), 0),
    TOTAL,
  );

  const last = startStreamProcess();
  await waitFor('all logs in Delta', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) >= TOTAL, {
    timeoutMs: 240_000,
    intervalMs: 500,
  });
  await waitFor('all documents in the search index', async () => (await searchCount()) >= TOTAL, { timeoutMs: 240_000, intervalMs: 1000 });
  last.child.kill('SIGINT');
  assert.equal(await last.exited, 0, `clean exit after Ctrl-C: ${last.stderr()}`);

  const keys = await tableKeys(fixture.deltaRoot, 'logs');
  assert.equal(keys.length, TOTAL, `logs rows (rows at each kill: ${rowsAtKill.join(', ')})`);
  const expected = new Set(
    offsets.flatMap((partition) => Array.from({ length: Number(partition.high) }, (_, offset) => `${partition.partition}:${offset}`)),
  );
  assert.deepEqual(new Set(keys), expected, 'every (partition, offset) exactly once');
  assert.equal(await searchCount(), TOTAL, 'search holds the same count');
});
