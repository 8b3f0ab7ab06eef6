// The one wiring of a Streamer from the pipeline configuration: Kafka, the lakehouse tables under
// delta.root, the search engine, batch limits and decoding. `logstream stream`, the pipeline's
// streamer activity, the benchmarks and the tests all start streamers here, overriding what they
// must (a topic, a model watcher, a logger); close() releases what the factory opened.
import { deltaOptionsFromConfig } from '../clients/delta/index.js';
import { createKafkaClient, type KafkaClient } from '../clients/kafka/index.js';
import { createSearchClient, type SearchClient } from '../clients/search/index.js';
import type { PipelineConfig } from '../config/schema.js';
import { createDecoder } from '../logs/decoder.js';
import { DecodeThread } from './decodeThread.js';
import { openLakehouse, type OpenLakehouse } from './lakehouse.js';
import { createSearchSink } from './searchSink.js';
import type { SearchSink } from './sinks.js';
import { Streamer, type StreamerOptions } from './streamer.js';

export interface StreamerOverrides extends Partial<Omit<StreamerOptions, 'kafka' | 'lakehouse' | 'search'>> {
  /** A Kafka client to use (left open); by default one is made from kafka.* and closed by close(). */
  kafka?: KafkaClient;
  /** The lakehouse folder (default delta.root). */
  deltaRoot?: string;
  /** The search sink, or false for none; by default the configured engine when elasticsearch.enabled. */
  search?: SearchSink | false;
  /** Append on the calling thread instead of the Delta writer thread. */
  writerThread?: boolean;
}

export interface StartableStreamer {
  streamer: Streamer;
  lakehouse: OpenLakehouse;
  /** Closes what the factory opened (the writer thread, clients); call after run() settles. */
  close(): Promise<void>;
}

export async function createStreamer(config: PipelineConfig, overrides: StreamerOverrides = {}): Promise<StartableStreamer> {
  const { kafka: givenKafka, deltaRoot, search: givenSearch, writerThread, ...options } = overrides;
  const kafka = givenKafka ?? createKafkaClient(config.kafka);
  let searchClient: SearchClient | undefined;
  let lakehouse: OpenLakehouse | undefined;
  let decodeThread: DecodeThread | undefined;
  try {
    lakehouse = await openLakehouse(
      deltaRoot ?? config.delta.root,
      { ...deltaOptionsFromConfig(config.delta, config.s3), dictionary: false },
      { writerThread },
    );
    let search: SearchSink | undefined;
    if (givenSearch) search = givenSearch;
    else if (givenSearch === undefined && config.elasticsearch.enabled) {
      searchClient = createSearchClient(config);
      search = lazyTemplateSearchSink(searchClient);
    }
    const topic = options.topic ?? config.kafka.topic;
    // A decoder given in the overrides cannot be sent to a thread: it decodes here.
    if (!options.decode)
      decodeThread = new DecodeThread({ decode: config.decode, topic, window: true, maxMessageBytes: config.streaming.max_message_bytes });
    const streamer = new Streamer({
      kafka,
      topic,
      topicPartitions: config.kafka.partitions,
      groupId: config.kafka.consumer_group,
      dlqTopic: config.kafka.dlq_topic,
      anomaliesTopic: config.kafka.anomalies_topic,
      limits: {
        maxRows: config.streaming.batch_max_rows,
        maxBytes: config.streaming.batch_max_mb * 1024 * 1024,
        maxWaitMs: config.streaming.batch_max_wait_ms,
      },
      // The topic's field mappings, time zone and event-time window (decode.*); compiled here too, so
      // a broken mapping fails the start rather than the decode thread.
      decode: { maxMessageBytes: config.streaming.max_message_bytes, decoder: createDecoder(config.decode, { topic, window: true }) },
      decodeThread,
      ...options,
      lakehouse: lakehouse.lakehouse,
      search,
    });
    const opened = lakehouse;
    return {
      streamer,
      lakehouse: opened,
      async close() {
        await opened.close().catch(() => undefined);
        await decodeThread?.close().catch(() => undefined);
        await searchClient?.close().catch(() => undefined);
        if (!givenKafka) await kafka.close().catch(() => undefined);
      },
    };
  } catch (error) {
    await lakehouse?.close().catch(() => undefined);
    await decodeThread?.close().catch(() => undefined);
    await searchClient?.close().catch(() => undefined);
    if (!givenKafka) await kafka.close().catch(() => undefined);
    throw error;
  }
}

/** Installs the index template on first use, so a search engine that is down at start is not fatal. */
function lazyTemplateSearchSink(client: SearchClient): SearchSink {
  const sink = createSearchSink(client);
  let templateReady = false;
  return {
    indexPrefix: sink.indexPrefix,
    async index(records) {
      if (!templateReady) {
        await client.ensureIndexTemplate();
        templateReady = true;
      }
      await sink.index(records);
    },
  };
}
