// Fills a pipeline input's gaps from the worker's configuration (pure).
import type { PipelineConfig } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import type { PipelineInput, PipelineSettings } from '../workflows/types.js';

const MIN_PROGRESS_INTERVAL_SECONDS = 1;
const MAX_PROGRESS_INTERVAL_SECONDS = 10;

export function resolveSettings(input: PipelineInput, config: PipelineConfig): PipelineSettings {
  const partitions = positive(input.partitions, 'partitions') ?? config.kafka.partitions;
  const requestedStreamers = positive(input.streamers, 'streamers') ?? config.streaming.streamers;
  const runSeconds =
    positive(input.runSeconds, 'runSeconds') ?? (positive(input.runMinutes, 'runMinutes') ?? config.streaming.run_minutes) * 60;
  const heartbeatTimeoutSeconds = config.temporal.heartbeat_timeout_seconds;
  if (input.traffic !== undefined && input.traffic !== 'site' && input.traffic !== 'generated')
    throw new ConfigError(`pipeline input traffic must be "site" or "generated", got ${JSON.stringify(input.traffic)}`, { key: 'traffic' });
  return {
    traffic: input.traffic ?? 'site',
    learning: {
      rows: config.ml.learning_rows,
      minutes: config.ml.learning_minutes,
      checkSeconds: config.ml.learning_check_seconds,
    },
    topic: input.topic?.trim() || config.kafka.topic,
    partitions,
    streamers: Math.min(requestedStreamers, partitions),
    runSeconds,
    heartbeatTimeoutSeconds,
    streamerTaskQueue: config.temporal.streamer_task_queue,
    consumerGroup: config.kafka.consumer_group,
    progressIntervalSeconds: Math.min(
      MAX_PROGRESS_INTERVAL_SECONDS,
      Math.max(MIN_PROGRESS_INTERVAL_SECONDS, Math.floor(heartbeatTimeoutSeconds / 3)),
    ),
  };
}

/** How often the activity heartbeats: well inside the heartbeat timeout, at most every 5 s. */
export function heartbeatIntervalMs(heartbeatTimeoutSeconds: number): number {
  return Math.max(500, Math.min(5_000, Math.floor((heartbeatTimeoutSeconds * 1000) / 4)));
}

function positive(value: number | undefined, key: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`pipeline input ${key} must be a positive number, got ${JSON.stringify(value)}`, { key });
  }
  return value;
}
