// Wires the real modules into the activities' ports for `logstream worker`: the streamer
// (streamers/), Kafka, the Delta engine, the search engine, MLflow and the training shell (training/).
import type { PipelineConfig } from '../config/schema.js';
import { DeltaTable, deltaOptionsFromConfig, findTables, s3SettingsFromConfig, tablePath } from '../clients/delta/index.js';
import { createKafkaClient, type KafkaClient } from '../clients/kafka/index.js';
import { createSearchClient } from '../clients/search/index.js';
import { createStreamer, type StartableStreamer } from '../streamers/createStreamer.js';
import { openLakehouse, TABLE_FOLDERS } from '../streamers/lakehouse.js';
import type { StreamerProgress } from '../streamers/streamer.js';
import { observeLag } from '../streamers/metrics.js';
import { createMlflowClient } from '../clients/mlflow/client.js';
import type { TrafficOrigin } from '../ml/model.js';
import { lakehouseReadiness } from '../training/deltaSample.js';
import { refuseGeneratedModels } from '../training/modelWatcher.js';
import { CHAMPION_ALIAS, downloadModel } from '../training/registry.js';
import type {
  HealthCheck,
  LearningProgress,
  PartitionProgress,
  PipelineSettings,
  TrainingInput,
  TrainingOutcome,
} from '../workflows/types.js';
import { createDesiredModelWatcher } from './modelSelection.js';
import { trainInChildProcess } from './trainingProcess.js';
import type { ActivityDependencies, StreamerProgressUpdate, StreamerRunRequest } from './ports.js';
import { workerLog } from './runtimeLogger.js';

/** Lag needs a metadata round trip to the broker; once every few seconds is plenty. */
const LAG_REFRESH_MS = 5_000;

export function loadDependencies(config: PipelineConfig): ActivityDependencies {
  return {
    config,
    streamer: runKafkaStreamer,
    resources: {
      async ensureResources(current, settings) {
        await withKafka(current, async (kafka) => {
          await kafka.ensureTopic(settings.topic, settings.partitions);
          await kafka.ensureTopic(current.kafka.dlq_topic, 1);
          await kafka.ensureTopic(current.kafka.anomalies_topic, 1);
        });
        await (await openLakehouse(current.delta.root, deltaOptionsFromConfig(current.delta, current.s3), { writerThread: false })).close();
        if (current.elasticsearch.enabled) {
          const search = createSearchClient(current);
          try {
            await search.ensureIndexTemplate();
          } finally {
            await search.close();
          }
        }
      },
    },
    health: {
      kafkaBroker: (current) => kafkaBrokerCheck(current),
      deltaFreshness: (current, maxAgeSeconds) => deltaFreshnessCheck(current, maxAgeSeconds),
      searchHealth: (current) => searchHealthCheck(current),
      mlflowHealth: (current) => mlflowHealthCheck(current),
    },
    maintenance: {
      listTables: (deltaRoot) => findTables(deltaRoot, { s3: s3SettingsFromConfig(config.s3) }),
      async maintainTable(tablePath, options) {
        const table = await DeltaTable.open(tablePath, {
          ...deltaOptionsFromConfig(config.delta, config.s3),
          logRetentionDays: options.logRetentionDays,
        });
        const { optimized, checkpoint, vacuumed } = await table.maintain({
          targetSizeBytes: options.targetFileSizeBytes,
          vacuumRetentionHours: options.vacuumRetentionHours,
          skipVacuum: options.skipVacuum,
        });
        return {
          table: tablePath,
          filesCompacted: optimized.filesRemoved,
          filesRemoved: vacuumed?.files.length ?? 0,
          checkpointVersion: checkpoint.version,
          logFilesRemoved: checkpoint.logFilesDeleted,
        };
      },
    },
    trainer: { train: trainFromDelta },
    learning: { progress: learningProgress },
  };
}

/** Champion artifacts by version: a learning pipeline asks every minute, a model does not change. */
const championOrigins = new Map<string, TrafficOrigin>();

/**
 * Whether the registry's champion may score this pipeline's traffic (a site's own traffic is never
 * scored with a model trained on generated logs), and how much of the site's traffic Delta holds.
 */
async function learningProgress(config: PipelineConfig, settings: PipelineSettings): Promise<LearningProgress> {
  const readiness = await lakehouseReadiness(config.delta.root, config.ml.lookback_hours, Date.now(), {
    s3: s3SettingsFromConfig(config.s3),
  }).catch(() => ({ rows: 0, minutes: 0 }));
  const client = createMlflowClient(config.mlflow);
  const champion = await client.getVersionByAlias(config.mlflow.registered_model, CHAMPION_ALIAS);
  if (!champion) return { ...readiness, championUsable: false, reason: `${config.mlflow.registered_model} has no champion yet` };
  let origin = championOrigins.get(champion.version);
  if (!origin) {
    try {
      origin = (await downloadModel(client, champion)).training.origin;
    } catch (error) {
      return {
        ...readiness,
        championUsable: false,
        championVersion: champion.version,
        reason: `champion ${champion.version} cannot be loaded: ${(error as Error).message}`,
      };
    }
    championOrigins.set(champion.version, origin);
  }
  if (settings.traffic === 'site' && origin === 'generated') {
    return {
      ...readiness,
      championUsable: false,
      championVersion: champion.version,
      reason: `champion ${champion.version} was trained on generated traffic`,
    };
  }
  return { ...readiness, championUsable: true, championVersion: champion.version };
}

/** One consumer-group member of the pipeline: the streamers/ Streamer with the activity's signal. */
async function runKafkaStreamer(request: StreamerRunRequest): Promise<StreamerProgressUpdate> {
  const { config, settings } = request;
  const kafka = createKafkaClient(config.kafka);
  const lag = new LagTracker(kafka, settings.topic);
  const models = createDesiredModelWatcher({
    client: createMlflowClient(config.mlflow),
    registeredModel: config.mlflow.registered_model,
    desired: request.desiredModelVersion,
    refuse: settings.traffic === 'site' ? refuseGeneratedModels : undefined,
    onChange: (event) =>
      event.failed
        ? workerLog().warn(
            { slot: request.slot, desired: request.desiredModelVersion(), error: event.failed },
            'cannot load the desired model; scoring with the current one',
          )
        : workerLog().info({ slot: request.slot, modelVersion: event.loaded, previousVersion: event.previous }, 'streamer switched model'),
  });
  let started: StartableStreamer | undefined;
  try {
    // Load the model before the first batch; without one the streamer scores with its placeholder.
    await models.check();
    started = await createStreamer(config, {
      kafka,
      topic: settings.topic,
      groupId: settings.consumerGroup,
      models,
      signal: request.signal,
      logger: workerLog().child({ component: 'streamer', slot: request.slot }),
      name: `slot-${request.slot}`,
      onProgress: (progress) => {
        lag.refresh();
        const update = toProgressUpdate(progress, lag.highWatermarks);
        for (const partition of update.partitions)
          if (partition.lag !== undefined) observeLag(settings.topic, partition.partition, partition.lag);
        request.onProgress(update);
      },
    });
    const final = await started.streamer.run();
    return toProgressUpdate(final, lag.highWatermarks);
  } finally {
    await started?.close();
    models.dispose();
    await kafka.close().catch(() => undefined);
  }
}

/** Trains on a seeded sample of the Delta logs table's lookback window, publishes to MLflow, promotes if at least as good. */
async function trainFromDelta(config: PipelineConfig, input: TrainingInput, signal: AbortSignal): Promise<TrainingOutcome> {
  const ml = {
    ...config.ml,
    lookback_hours: input.lookbackHours ?? config.ml.lookback_hours,
    training_samples: input.trainingSamples ?? config.ml.training_samples,
  };
  return trainInChildProcess({ ...config, ml }, signal);
}

export function toProgressUpdate(progress: StreamerProgress, highWatermarks: ReadonlyMap<number, bigint>): StreamerProgressUpdate {
  const partitions: PartitionProgress[] = Object.entries(progress.committedOffsets).map(([partitionText, offset]) => {
    const partition = Number(partitionText);
    const high = highWatermarks.get(partition);
    const lag = high === undefined ? undefined : Number(high - (BigInt(offset) + 1n));
    return { partition, committedOffset: offset, ...(lag === undefined ? {} : { lag: Math.max(0, lag) }) };
  });
  return {
    partitions,
    rowsTotal: progress.counters.committedRows,
    batches: progress.counters.batches,
    rowsPerSecond: progress.rowsPerSecond,
    lastCommitAt: progress.lastCommitTimeMs === null ? undefined : new Date(progress.lastCommitTimeMs).toISOString(),
    modelVersion: progress.modelVersion,
  };
}

class LagTracker {
  readonly highWatermarks = new Map<number, bigint>();
  private lastRefreshMs = 0;
  private inFlight = false;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly topic: string,
  ) {}

  refresh(): void {
    if (this.inFlight || Date.now() - this.lastRefreshMs < LAG_REFRESH_MS) return;
    this.inFlight = true;
    this.lastRefreshMs = Date.now();
    this.kafka
      .topicOffsets(this.topic)
      .then((offsets) => {
        for (const partition of offsets) this.highWatermarks.set(partition.partition, partition.high);
      })
      .catch(() => undefined) // lag is for humans; a missed refresh shows the previous figure
      .finally(() => {
        this.inFlight = false;
      });
  }
}

async function withKafka<T>(config: PipelineConfig, use: (kafka: KafkaClient) => Promise<T>): Promise<T> {
  const kafka = createKafkaClient(config.kafka);
  try {
    return await use(kafka);
  } finally {
    await kafka.close().catch(() => undefined);
  }
}

async function kafkaBrokerCheck(config: PipelineConfig): Promise<HealthCheck> {
  return withKafka(config, async (kafka) => {
    const offsets = await kafka.topicOffsets(config.kafka.topic);
    const retained = offsets.reduce((sum, partition) => sum + Number(partition.high - partition.low), 0);
    return {
      name: 'kafka',
      status: 'ok',
      detail: `${config.kafka.servers}: topic ${config.kafka.topic} has ${offsets.length} partition(s), ${retained} message(s) retained`,
    };
  });
}

async function deltaFreshnessCheck(config: PipelineConfig, maxAgeSeconds: number): Promise<HealthCheck> {
  const name = 'delta-freshness';
  const logsPath = tablePath(config.delta.root, TABLE_FOLDERS.logs);
  const table = await DeltaTable.open(logsPath, { s3: s3SettingsFromConfig(config.s3) }).catch(() => undefined);
  if (!table) return { name, status: 'warn', detail: `no logs table at ${logsPath} yet` };
  const newest = (await table.history({ fromVersion: table.version })).at(-1);
  if (!newest) return { name, status: 'warn', detail: `${logsPath} has no commit` };
  const ageSeconds = Math.max(0, Math.round((Date.now() - newest.timestampMs) / 1000));
  return {
    name,
    status: ageSeconds > maxAgeSeconds ? 'warn' : 'ok',
    detail: `logs table version ${newest.version} committed ${ageSeconds}s ago (limit ${maxAgeSeconds}s)`,
    value: ageSeconds,
  };
}

async function mlflowHealthCheck(config: PipelineConfig): Promise<HealthCheck> {
  const client = createMlflowClient(config.mlflow, { timeoutMs: 5_000 });
  try {
    await client.checkAccess();
    return { name: 'mlflow', status: 'ok', detail: `${client.trackingUri}: healthy` };
  } catch (error) {
    return { name: 'mlflow', status: 'fail', detail: `${client.trackingUri}: ${(error as Error).message}` };
  }
}

async function searchHealthCheck(config: PipelineConfig): Promise<HealthCheck> {
  const name = 'search-engine';
  if (!config.elasticsearch.enabled) return { name, status: 'unknown', detail: 'elasticsearch.enabled is false' };
  const search = createSearchClient(config);
  try {
    const health = await search.health();
    const status = health.status === 'red' ? 'fail' : 'ok';
    return {
      name,
      status,
      detail: `${health.engine} ${health.version} at ${health.url}: ${health.status}, ${health.numberOfNodes} node(s)`,
    };
  } finally {
    await search.close().catch(() => undefined);
  }
}
