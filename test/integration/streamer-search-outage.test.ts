// The search engine goes away mid-run and comes back: Delta keeps flowing meanwhile, and the search
// index catches up to exactly the rows in the logs table. The streamer reaches the engine through a
// TCP relay the test switches off and on, a real outage as the client sees it.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createSearchClient, type SearchClient } from '../../clients/search/index.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createSearchSink } from '../../streamers/searchSink.js';
import { freePort, requireService, uniqueName, waitFor } from '../helpers/stack.js';
import {
  generatedMessages,
  produce,
  startStreamer,
  streamerFixture,
  tableKeys,
  tableRowCount,
  type StreamerFixture,
} from './streamer-support.js';

/** A TCP relay to host:port that can be switched off (every connection cut) and on again. */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let config: PipelineConfig;
let fixture: StreamerFixture;
let direct: SearchClient;
let relay: Relay;

before(async () => {
  config = await requireService('kafka');
  await requireService(config.elasticsearch.kind, config);
  fixture = await streamerFixture(config, 'streamer-search-outage');
  const indexPrefix = uniqueName('outage');
  direct = createSearchClient({ elasticsearch: { ...config.elasticsearch, index_prefix: indexPrefix } });
  const target = new URL(config.elasticsearch.host);
  relay = new Relay(await freePort(), target.hostname, Number(target.port || 80));
  await relay.up();
});

after(async () => {
  await relay?.down();
  await direct?.deleteIndices(direct.logsIndexPattern).catch(() => undefined);
  await direct?.close();
  await fixture?.kafka.deleteTopic(fixture.topic).catch(() => undefined);
  await fixture?.kafka.close();
});

async function searchCount(): Promise<number> {
  await direct.refresh(direct.logsIndexPattern);
  return direct.countDocuments(direct.logsIndexPattern);
}

test('search engine down mid-run: Delta keeps flowing, search catches up to the same rows when it is back', async () => {
  const relayed = createSearchClient(
    { elasticsearch: { ...config.elasticsearch, host: `http://127.0.0.1:${relay.port}`, index_prefix: direct.indexPrefix } },
    { requestTimeoutMs: 5000, maxAttempts: 1 },
  );
  await relayed.ensureIndexTemplate();
  const { streamer, done } = await startStreamer(fixture, config, { search: createSearchSink(relayed) });
  try {
    await produce(fixture.kafka, fixture.topic, generatedMessages(15_000, 31));
    await waitFor('documents in search', async () => (await searchCount()) > 0, { timeoutMs: 60_000, intervalMs: 300 });

    await relay.down();
    await produce(fixture.kafka, fixture.topic, generatedMessages(15_000, 32));
    await waitFor(
      'all 30,000 rows in Delta while search is down',
      async () => (await tableRowCount(fixture.deltaRoot, 'logs')) === 30_000,
      { timeoutMs: 90_000, intervalMs: 300 },
    );
    const duringOutage = await searchCount();
    assert.ok(duringOutage < 30_000, `search missed rows while it was unreachable (${duringOutage})`);
    assert.ok(streamer.progress().counters.searchFailures > 0, 'the streamer saw the outage');

    await relay.up();
    await waitFor('search to catch up to 30,000', async () => (await searchCount()) === 30_000, { timeoutMs: 120_000, intervalMs: 500 });
  } finally {
    await streamer.stop();
    await done;
    await relayed.close();
  }
  const keys = await tableKeys(fixture.deltaRoot, 'logs');
  assert.equal(keys.length, 30_000);
  assert.equal(new Set(keys).size, 30_000);
  assert.equal(await searchCount(), 30_000);
});
