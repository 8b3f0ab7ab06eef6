// What the activities need from the rest of the system, as narrow interfaces.
// The worker wires the real modules (streamers/, clients/kafka, clients/delta,
// clients/search, clients/mlflow, ml/) into these in dependencies.ts; tests may pass others.
import type { PipelineConfig } from '../config/schema.js';
import type {
  HealthCheck,
  LearningProgress,
  PipelineSettings,
  StreamerProgressUpdate,
  TableMaintenanceResult,
  TrainingInput,
  TrainingOutcome,
} from '../workflows/types.js';

/** What a streamer run reports as it goes (the workflow adds slot, run id and time). */
export type { StreamerProgressUpdate };

export interface StreamerRunRequest {
  config: PipelineConfig;
  settings: PipelineSettings;
  /** Which streamer of the pipeline this is (for logs and the consumer's client id). */
  slot: number;
  /**
   * Aborted when the streamer must stop: cancellation (pause/stop/scale), the end of
   * the bounded run, or worker shutdown. The streamer finishes or abandons its batch,
   * commits, closes its consumer and returns.
   */
  signal: AbortSignal;
  /** Called after each batch (cheap; the activity throttles what it sends). */
  onProgress: (progress: StreamerProgressUpdate) => void;
  /** The model the pipeline wants now ("champion" or a version); checked between batches. */
  desiredModelVersion: () => string;
}

/** Runs one micro-batch streamer until `signal` aborts; resumes from the Delta txn versions itself. */
export type StreamerRunner = (request: StreamerRunRequest) => Promise<StreamerProgressUpdate>;

export interface ResourceEnsurer {
  /** Topics (with the partition count), Delta tables and the search index template exist after this. */
  ensureResources(config: PipelineConfig, settings: PipelineSettings): Promise<void>;
}

export interface HealthProbes {
  kafkaBroker?(config: PipelineConfig): Promise<HealthCheck>;
  deltaFreshness?(config: PipelineConfig, maxAgeSeconds: number): Promise<HealthCheck>;
  searchHealth?(config: PipelineConfig): Promise<HealthCheck>;
  mlflowHealth?(config: PipelineConfig): Promise<HealthCheck>;
}

export interface TableMaintenance {
  /** Table folders (absolute paths) under the Delta root. */
  listTables(deltaRoot: string): Promise<string[]>;
  maintainTable(
    tablePath: string,
    options: {
      vacuumRetentionHours: number;
      logRetentionDays: number;
      skipVacuum: boolean;
      targetFileSizeBytes: number;
      signal: AbortSignal;
    },
  ): Promise<TableMaintenanceResult>;
}

export interface ModelTrainer {
  /** Sample, train, evaluate, log, register; promote to champion only if at least as good. */
  train(config: PipelineConfig, input: TrainingInput, signal: AbortSignal): Promise<TrainingOutcome>;
}

export interface LearningProbe {
  /** The registry's champion and whether it may score this traffic; rows and minutes of the site's traffic in Delta. */
  progress(config: PipelineConfig, settings: PipelineSettings): Promise<LearningProgress>;
}

export interface ActivityDependencies {
  config: PipelineConfig;
  streamer: StreamerRunner;
  resources: ResourceEnsurer;
  learning: LearningProbe;
  health: HealthProbes;
  maintenance: TableMaintenance;
  trainer: ModelTrainer;
}
