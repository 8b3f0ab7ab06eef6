// `logstream stream` runs one streamer in the foreground until Ctrl-C (or SIGTERM); `generate` and
// `replay` feed the topic. The three commands of the streaming data path register here.
import type { Command } from 'commander';
import { pino, type Logger } from 'pino';
import { createMlflowClient } from '../../clients/mlflow/client.js';
import { UsageError } from '../../config/errors.js';
import type { PipelineConfig } from '../../config/schema.js';
import { createScorer } from '../../ml/kmeansScorer.js';
import { createModelWatcher, refuseGeneratedModels, staticModelWatcher } from '../../training/modelWatcher.js';
import { loadModel } from '../../training/registry.js';
import type { ModelWatcher } from '../../ml/scorer.js';
import { createStreamer } from '../../streamers/createStreamer.js';
import type { StreamerProgress } from '../../streamers/streamer.js';
import { context, isInteractive } from '../context.js';
import { registerGenerateCommand } from './generate.js';
import { registerReplayCommand } from './replay.js';

interface StreamOptions {
  traffic: string;
  topic?: string;
  group?: string;
  search: boolean;
  model: string;
}

export function registerStreamingCommands(program: Command): void {
  registerGenerateCommand(program);
  registerReplayCommand(program);
  program
    .command('stream')
    .description(
      'run one streamer in the foreground: Kafka -> decode -> score -> Delta (logs, anomalies, metrics_1m, quarantine) + search + alerts, until Ctrl-C',
    )
    .option('--topic <name>', 'topic to consume (default: kafka.topic)')
    .option('--group <id>', 'consumer group (default: kafka.consumer_group)')
    .option('--no-search', 'do not index into the search engine')
    .option(
      '--model <ref>',
      'score with this model: an alias of the registered model (followed as it moves), a registry version, a model JSON file, or "none" to store rows unscored',
      'champion',
    )
    .option(
      '--traffic <kind>',
      '"site" (a real site\'s logs: an alias never follows a model trained on generated logs) or "generated" (the generator\'s)',
      'site',
    )
    .addHelpText(
      'after',
      "\nThe streamer resumes after the last Delta commit of each partition, so it can be stopped or killed at any time.\nWith an alias (default champion) it checks the registry between batches and swaps models without stopping;\nuntil a model loads (MLflow down, nothing registered yet, only a generated model for a site's traffic) rows are\nstored and indexed unscored (anomaly_score, is_anomaly null) and no alerts go out.\nLogs are JSON lines on stderr; the final position is printed as JSON on stdout.",
    )
    .action(async (options: StreamOptions) => {
      const { config } = context();
      const logger = pino({ name: 'streamer', level: process.env.LOGSTREAM_LOG_LEVEL ?? 'info' }, pino.destination(2));
      const topic = options.topic ?? config.kafka.topic;
      if (options.traffic !== 'site' && options.traffic !== 'generated')
        throw new UsageError(`--traffic must be "site" or "generated", got "${options.traffic}"`);
      const models = await streamerModels(options.model, config, logger, options.traffic);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const interactive = isInteractive();
      const { streamer, close } = await createStreamer(config, {
        topic,
        groupId: options.group ?? config.kafka.consumer_group,
        ...(options.search ? {} : { search: false as const }),
        models,
        signal: abort.signal,
        logger,
        onProgress: interactive ? (progress) => process.stderr.write(`\r${progressLine(progress)}`) : undefined,
      });
      logger.info({ topic, deltaRoot: config.delta.root, search: options.search && config.elasticsearch.enabled }, 'streamer starting');
      try {
        const position = await streamer.run();
        if (interactive) process.stderr.write('\n');
        process.stdout.write(`${JSON.stringify(position)}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await close();
        models?.dispose();
      }
    });
}

/**
 * The model the streamer scores with. An alias is followed through the registry (a failed first
 * load is a warning: the streamer stores rows unscored and keeps asking); a version or a
 * file must load, since the user asked for that one.
 */
async function streamerModels(
  reference: string,
  config: PipelineConfig,
  logger: Logger,
  traffic: 'site' | 'generated',
): Promise<(ModelWatcher & { dispose(): void }) | undefined> {
  if (reference === 'none') return undefined;
  const client = createMlflowClient(config.mlflow);
  const registry = { client, registeredModel: config.mlflow.registered_model };
  if (/^\d+$/.test(reference) || /[/\\.]/.test(reference)) {
    const { model, version } = await loadModel(reference, registry);
    const scorer = createScorer(model, version);
    logger.info({ modelVersion: version }, 'scoring with a fixed model');
    return { ...staticModelWatcher(scorer), dispose: () => scorer.dispose() };
  }
  const watcher = createModelWatcher({ ...registry, alias: reference, refuse: traffic === 'site' ? refuseGeneratedModels : undefined });
  const first = await watcher.check();
  if (first.status === 'failed')
    logger.warn({ alias: reference, error: first.error.message }, 'no model yet: rows are stored unscored until one loads');
  else logger.info({ alias: reference, modelVersion: first.scorer.modelVersion }, 'scoring with the registered model');
  return watcher;
}

function progressLine(progress: StreamerProgress): string {
  const { counters } = progress;
  const offsets = Object.entries(progress.committedOffsets)
    .map(([partition, offset]) => `p${partition}@${offset}`)
    .join(' ');
  return `rows ${counters.committedRows}  ${Math.round(progress.rowsPerSecond)}/s  quarantined ${counters.quarantined}  anomalies ${counters.anomalies}  search ${counters.searchIndexed} (backlog ${counters.searchBacklog})  ${offsets}   `;
}
