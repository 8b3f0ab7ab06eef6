// Alerts agree with the lakehouse when a streamer dies with rows scored and alerted but not
// committed: the streamer that takes its partitions over reads the alerts topic back and retracts
// every alert whose committed row is not anomalous. Real Kafka, real Delta, `logstream stream`
// processes, one SIGKILLed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PipelineConfig } from '../../config/schema.js';
import { requireService, waitFor } from '../helpers/stack.js';
import {
  generatedMessages,
  produce,
  streamerFixture,
  streamProcess,
  tableRowCount,
  tableRows,
  topicMessageCount,
  trainedModelFile,
  type StreamerFixture,
} from './streamer-support.js';

const ROWS_PER_RUN = 3_000;
/** Alerts the killed streamer must have sent before it is killed. */
const ORPHANS = 10;

let config: PipelineConfig;
let fixture: StreamerFixture;
let modelFile: string;

before(async () => {
  config = await requireService('kafka');
  fixture = await streamerFixture(config, 'alert-takeover');
  // A low threshold, so that the killed streamer alerts plenty of rows.
  modelFile = await trainedModelFile(90);
});

after(async () => {
  for (const topic of [fixture?.topic, fixture?.anomaliesTopic, fixture?.dlqTopic])
    if (topic) await fixture.kafka.deleteTopic(topic).catch(() => undefined);
  await fixture?.kafka.close();
});

const stream = (model: string, batchMaxWaitMs: number) => streamProcess(fixture, config, { model, batchMaxWaitMs, logLevel: 'info' });

/** Per alert id, whether its latest message on the alerts topic is an alert (true) or a retraction (false). */
async function alertStates(): Promise<Map<string, boolean>> {
  const states = new Map<string, boolean>();
  await fixture.kafka.readSince(fixture.anomaliesTopic, 0, (messages) => {
    for (const message of messages) {
      const value = JSON.parse(String(message.value)) as { id: string; retracted?: boolean };
      states.set(value.id, value.retracted !== true);
    }
  });
  return states;
}

async function anomalousRowIds(): Promise<Set<string>> {
  const rows = await tableRows(fixture.deltaRoot, 'logs', ['kafka_partition', 'kafka_offset', 'is_anomaly']);
  return new Set(rows.filter((row) => row.is_anomaly).map((row) => `${fixture.topic}-${row.kafka_partition}-${row.kafka_offset}`));
}

test('a streamer SIGKILLed after alerting rows it never committed: the next one retracts the alerts its rows do not confirm', {
  timeout: 300_000,
}, async () => {
  // 1. A streamer scores and commits the first rows, and stops cleanly.
  await produce(fixture.kafka, fixture.topic, generatedMessages(ROWS_PER_RUN, 41));
  const first = stream(modelFile, 300);
  await waitFor('the first rows in Delta', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) >= ROWS_PER_RUN, {
    timeoutMs: 120_000,
    intervalMs: 300,
  });
  first.child.kill('SIGINT');
  assert.equal(await first.exited, 0, first.stderr());
  const confirmed = await anomalousRowIds();
  assert.ok(confirmed.size > 0, 'the model flags some rows');

  // 2. Another scores and alerts the next rows, but waits too long to commit them, and is killed.
  const alertsBefore = await topicMessageCount(fixture.kafka, fixture.anomaliesTopic);
  await produce(fixture.kafka, fixture.topic, generatedMessages(ROWS_PER_RUN, 42));
  const killed = stream(modelFile, 600_000);
  await waitFor(
    'alerts for the uncommitted rows',
    async () => (await topicMessageCount(fixture.kafka, fixture.anomaliesTopic)) >= alertsBefore + ORPHANS,
    { timeoutMs: 120_000, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (${confirmed.size} confirmed, ${alertsBefore} alerts before)\n${killed.stderr().slice(-3000)}`);
  });
  // Let it score the rest of what it fetched.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  killed.child.kill('SIGKILL');
  assert.equal(await killed.exited, null, 'killed by a signal');
  assert.equal(await tableRowCount(fixture.deltaRoot, 'logs'), ROWS_PER_RUN, 'the killed streamer committed nothing');
  const orphaned = [...(await alertStates())].filter(([id, alerted]) => alerted && !confirmed.has(id)).map(([id]) => id);
  assert.ok(orphaned.length >= ORPHANS, `alerts with no committed row: ${orphaned.length}`);

  // 3. The next streamer scores nothing (no model): every row it commits is normal.
  const next = stream('none', 300);
  await waitFor('every row in Delta', async () => (await tableRowCount(fixture.deltaRoot, 'logs')) >= 2 * ROWS_PER_RUN, {
    timeoutMs: 120_000,
    intervalMs: 300,
  });
  const anomalous = await anomalousRowIds();
  assert.deepEqual(anomalous, confirmed, 'only the first run flagged rows');
  await waitFor(
    'the alerts to agree with the logs table',
    async () => {
      const alerted = [...(await alertStates())].filter(([, isAlerted]) => isAlerted).map(([id]) => id);
      return alerted.length === anomalous.size && alerted.every((id) => anomalous.has(id));
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  next.child.kill('SIGINT');
  assert.equal(await next.exited, 0, next.stderr());
  assert.match(next.stderr(), /took over alerts sent by other owners of the partition/);
  const states = await alertStates();
  for (const id of orphaned) assert.equal(states.get(id), false, `${id} retracted`);
  for (const id of confirmed) assert.equal(states.get(id), true, `${id} still alerted`);
});
