// `logstream stream` runs one streamer in the foreground until Ctrl-C (or SIGTERM); `generate` and
// `replay` feed the topic. The three commands of the streaming data path register here.
import type { Command } from 'commander';
import { pino } from 'pino';
import { createKafkaClient } from '../../clients/kafka/index.js';
import { createSearchClient } from '../../clients/search/index.js';
import { openLakehouseTables } from '../../streamers/deltaSinks.js';
import { createSearchSink } from '../../streamers/searchSink.js';
import { Streamer, type StreamerProgress } from '../../streamers/streamer.js';
import type { SearchSink } from '../../streamers/sinks.js';
import { context, isInteractive } from '../context.js';
import { registerGenerateCommand } from './generate.js';
import { registerReplayCommand } from './replay.js';

interface StreamOptions {
  topic?: string;
  group?: string;
  search: boolean;
}

export function registerStreamingCommands(program: Command): void {
  registerGenerateCommand(program);
  registerReplayCommand(program);
  program
    .command('stream')
    .description('run one streamer in the foreground: Kafka -> decode -> score -> Delta (logs, anomalies, metrics_1m, quarantine) + search + alerts, until Ctrl-C')
    .option('--topic <name>', 'topic to consume (default: kafka.topic)')
    .option('--group <id>', 'consumer group (default: kafka.consumer_group)')
    .option('--no-search', 'do not index into the search engine')
    .addHelpText('after', '\nThe streamer resumes after the last Delta commit of each partition, so it can be stopped or killed at any time.\nLogs are JSON lines on stderr; the final position is printed as JSON on stdout.')
    .action(async (options: StreamOptions) => {
      const { config } = context();
      const logger = pino({ name: 'streamer', level: process.env.LOGSTREAM_LOG_LEVEL ?? 'info' }, pino.destination(2));
      const topic = options.topic ?? config.kafka.topic;
      const kafka = createKafkaClient(config.kafka);
      const lakehouse = await openLakehouseTables(config.delta.root, { checkpointInterval: config.delta.checkpoint_interval });
      let search: SearchSink | undefined;
      if (options.search && config.elasticsearch.enabled) search = lazyTemplateSearchSink(createSearchClient(config));
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const interactive = isInteractive();
      const streamer = new Streamer({
        kafka,
        topic,
        topicPartitions: config.kafka.partitions,
        groupId: options.group ?? config.kafka.consumer_group,
        dlqTopic: config.kafka.dlq_topic,
        anomaliesTopic: config.kafka.anomalies_topic,
        limits: { maxRows: config.streaming.batch_max_rows, maxWaitMs: config.streaming.batch_max_wait_ms },
        maxMessageBytes: config.streaming.max_message_bytes,
        sinks: lakehouse.sinks,
        search,
        signal: abort.signal,
        logger,
        onProgress: interactive ? (progress) => process.stderr.write(`\r${progressLine(progress)}`) : undefined,
      });
      logger.info({ topic, deltaRoot: config.delta.root, search: Boolean(search) }, 'streamer starting');
      try {
        const position = await streamer.run();
        if (interactive) process.stderr.write('\n');
        process.stdout.write(`${JSON.stringify(position)}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await kafka.close();
        await lakehouse.close();
      }
    });
}

/** Installs the index template on first use, so a search engine that is down at start is not fatal. */
function lazyTemplateSearchSink(client: ReturnType<typeof createSearchClient>): SearchSink {
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

function progressLine(progress: StreamerProgress): string {
  const { counters } = progress;
  const offsets = Object.entries(progress.committedOffsets).map(([partition, offset]) => `p${partition}@${offset}`).join(' ');
  return `rows ${counters.committedRows}  ${Math.round(progress.rowsPerSecond)}/s  quarantined ${counters.quarantined}  anomalies ${counters.anomalies}  search ${counters.searchIndexed} (backlog ${counters.searchBacklog})  ${offsets}   `;
}
