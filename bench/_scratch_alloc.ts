// Allocation profile of the streamer on a preloaded topic: the inspector's sampling heap profiler
// keeping objects collected by minor and major GCs, summed by function.
import { Session } from 'node:inspector/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafkaClient } from '../clients/kafka/index.js';
import { loadConfig } from '../config/load.js';
import { createTrafficGenerator, toJsonLine, DEFAULT_ANOMALY_RATE } from '../generator/index.js';
import { createScorer } from '../ml/kmeansScorer.js';
import { staticModelWatcher } from '../training/modelWatcher.js';
import { createStreamer } from '../streamers/createStreamer.js';
import { trainBenchModel } from './lib/benchModel.js';
import { pino } from 'pino';

const config = loadConfig().config;
const total = 200_000;
const topic = `alloc-${Date.now().toString(36)}`;
const kafka = createKafkaClient({ ...config.kafka, client_id: topic });
await kafka.ensureTopic(topic, 4);
const producer = await kafka.createProducer();
const gen = createTrafficGenerator({ seed: 7, startTimeMs: Date.now() - 300_000, ratePerSecond: 10000, anomalyRate: DEFAULT_ANOMALY_RATE });
for (let sent = 0; sent < total; sent += 5000)
  await producer.send(
    topic,
    Array.from({ length: 5000 }, () => {
      const log = gen.next();
      return { key: log.clientIp, value: toJsonLine(log) };
    }),
  );
await producer.close();
const { model } = await trainBenchModel(config, 10000, 'alloc');
const deltaRoot = await mkdtemp(join(tmpdir(), 'alloc-'));
let committed = 0;
const { streamer, close } = await createStreamer(config, {
  kafka,
  deltaRoot,
  topic,
  groupId: `${topic}-g`,
  dlqTopic: `${topic}-dlq`,
  anomaliesTopic: `${topic}-a`,
  search: false,
  models: staticModelWatcher(createScorer(model, 'alloc')),
  logger: pino({ level: 'error' }),
  onBatchCommitted: (records) => {
    committed += records.length;
  },
});
const session = new Session();
session.connect();
const done = streamer.run();
while (committed < 20_000) await new Promise((r) => setTimeout(r, 20));
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 16384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const from = committed;
while (committed < total) await new Promise((r) => setTimeout(r, 20));
const { profile } = await session.post('HeapProfiler.stopSampling');
const rows = committed - from;
await streamer.stop();
await done;
await close();
await kafka.deleteTopic(topic).catch(() => undefined);
await kafka.close();
type Node = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] };
const byFunction = new Map<string, number>();
const visit = (node: Node, stack: string[]) => {
  const name = `${node.callFrame.functionName || '(anon)'} ${node.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')}:${node.callFrame.lineNumber}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + node.selfSize);
  for (const child of node.children) visit(child, [...stack, name]);
};
visit(profile.head as unknown as Node, []);
const sum = [...byFunction.values()].reduce((a, b) => a + b, 0);
console.log(`allocated ${(sum / rows).toFixed(0)} bytes per row over ${rows} rows`);
for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(`${(bytes / rows).toFixed(0).padStart(6)} B/row  ${name}`);
