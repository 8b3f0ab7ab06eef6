// Wires the real modules into the activities' ports for `logstream worker`.
// A port whose module has not landed yet fails its activity with DependencyUnavailableError
// (non-retryable) instead of pretending to work.
import type { PipelineConfig } from '../config/schema.js';
import { createKafkaClient } from '../clients/kafka/index.js';
import type { HealthCheck } from '../workflows/types.js';
import { dependencyUnavailable } from './errors.js';
import type { ActivityDependencies } from './ports.js';

export function loadDependencies(config: PipelineConfig): ActivityDependencies {
  return {
    config,
    streamer: async () => {
      throw dependencyUnavailable('the micro-batch streamer (streamers/)');
    },
    resources: {
      async ensureResources(current, settings) {
        const kafka = createKafkaClient(current.kafka);
        try {
          await kafka.ensureTopic(settings.topic, settings.partitions);
          await kafka.ensureTopic(current.kafka.dlq_topic, settings.partitions);
          await kafka.ensureTopic(current.kafka.anomalies_topic, settings.partitions);
        } finally {
          await kafka.close();
        }
      },
    },
    health: {
      kafkaBroker: (current) => kafkaReachable(current),
    },
    maintenance: {
      async listTables() {
        throw dependencyUnavailable('Delta table maintenance (clients/delta)');
      },
      async maintainTable() {
        throw dependencyUnavailable('Delta table maintenance (clients/delta)');
      },
    },
    trainer: {
      async train() {
        throw dependencyUnavailable('the training pipeline (ml/, clients/mlflow)');
      },
    },
  };
}

async function kafkaReachable(config: PipelineConfig): Promise<HealthCheck> {
  const kafka = createKafkaClient(config.kafka);
  try {
    const offsets = await kafka.topicOffsets(config.kafka.topic);
    const messages = offsets.reduce((sum, partition) => sum + Number(partition.high - partition.low), 0);
    return { name: 'kafka', status: 'ok', detail: `${config.kafka.topic}: ${offsets.length} partitions, ${messages} messages retained`, value: messages };
  } finally {
    await kafka.close();
  }
}
