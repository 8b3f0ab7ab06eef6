// Plain-JSON shapes exchanged between workflows, activities and the CLI.
// Every workflow input is optional field by field, so
// `temporal workflow start --type pipelineWorkflow --input '{}'` works and the worker fills the rest from its config.

/** Input of pipelineWorkflow. Documented in docs/workflows.md. */
export interface PipelineInput {
  /** Streamer activities to keep running (default streaming.streamers), at most the partition count. */
  streamers?: number;
  /** Partitions of the input topic (default kafka.partitions). */
  partitions?: number;
  /** Input topic (default kafka.topic). */
  topic?: string;
  /** Bounded run of one streamer activity before the workflow starts the next (default streaming.run_minutes). */
  runMinutes?: number;
  /** Same as runMinutes in seconds; wins over it. Meant for tests and demos. */
  runSeconds?: number;
  /** Model the streamers score with: a registered version number or "champion" (default). */
  modelVersion?: string;
  /**
   * Whose traffic the topic carries: "site" (default), a real site's, which is never scored with a
   * model trained on generated logs (the pipeline learns first); or "generated", the generator's.
   */
  traffic?: TrafficKind;
  /** Start paused (no streamer runs until `resume`). Carried across continue-as-new. */
  paused?: boolean;
  /** Test knob: continue-as-new after this many finished streamer runs, besides continueAsNewSuggested. */
  maxIterationsBeforeContinueAsNew?: number;
  /** Carried across continue-as-new: how many times this pipeline continued as new. */
  continuedAsNewCount?: number;
  /** Carried across continue-as-new: streamer runs finished so far. */
  runsCompleted?: number;
}

export type TrafficKind = 'site' | 'generated';

/** How much of the site's own traffic a first model waits for (config ml.learning_*). */
export interface LearningSettings {
  rows: number;
  minutes: number;
  /** Seconds between two looks at the lakehouse and the registry while learning. */
  checkSeconds: number;
}

/** The pipeline input with every default filled in from the worker's configuration. */
export interface PipelineSettings {
  traffic: TrafficKind;
  learning: LearningSettings;
  topic: string;
  partitions: number;
  streamers: number;
  runSeconds: number;
  heartbeatTimeoutSeconds: number;
  streamerTaskQueue: string;
  consumerGroup: string;
  /** How often a streamer reports progress to the workflow and asks for the desired model. */
  progressIntervalSeconds: number;
}

export type PipelineState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped';
export type StreamerState = 'starting' | 'running' | 'stopping' | 'failed';

export interface PartitionProgress {
  partition: number;
  /** Last offset committed to Delta for this partition (string: Kafka offsets are 64-bit). */
  committedOffset?: string;
  /** Messages between the committed offset and the partition's high watermark. */
  lag?: number;
}

/** What a running streamer reports: heartbeat details and the progress signal carry this. */
export interface StreamerProgressUpdate {
  partitions: PartitionProgress[];
  rowsTotal: number;
  batches: number;
  rowsPerSecond: number;
  lastCommitAt?: string;
  lastCommitVersion?: number;
  modelVersion?: string;
}

export interface StreamerProgress extends StreamerProgressUpdate {
  slot: number;
  /** Which start of the slot this is; stale reports of an older start are ignored. */
  runId: string;
  reportedAt: string;
}

export interface StreamerStatus extends Partial<Omit<StreamerProgress, 'slot'>> {
  slot: number;
  state: StreamerState;
  lastError?: string;
}

/** Answer of the pipeline's `status` query. */
export interface PipelineStatus {
  state: PipelineState;
  topic?: string;
  partitions?: number;
  desiredStreamers: number;
  runningStreamers: number;
  desiredModelVersion: string;
  runsCompleted: number;
  continuedAsNewCount: number;
  streamers: StreamerStatus[];
  /** Whether the streamers score yet, and how far a pipeline without a model for its site is. */
  learning?: LearningStatus;
}

/** What learningProgress finds: the champion and whether this pipeline may score with it, and the site's traffic in Delta. */
export interface LearningProgress {
  /** The registry's champion may score this pipeline's traffic. */
  championUsable: boolean;
  championVersion?: string;
  /** Why the champion may not score (none yet, trained on generated logs, unreadable). */
  reason?: string;
  /** Rows and minutes of the site's traffic the logs table holds over ml.lookback_hours. */
  rows: number;
  minutes: number;
}

export interface LearningStatus {
  /** learning: rows stored, no scores, no alerts; training: the first model is being trained; scoring: a model for this traffic scores. */
  state: 'learning' | 'training' | 'scoring';
  rows: number;
  rowsNeeded: number;
  minutes: number;
  minutesNeeded: number;
  reason?: string;
  /** The last training the pipeline started by itself. */
  lastTraining?: {
    workflowId: string;
    startedAt: string;
    rows: number;
    finishedAt?: string;
    promoted?: boolean;
    version?: string;
    error?: string;
  };
}

/** Input of one runStreamer activity. */
export interface StreamerRunInput {
  workflowId: string;
  slot: number;
  runId: string;
  settings: PipelineSettings;
  modelVersion: string;
}

export interface StreamerRunResult {
  slot: number;
  runId: string;
  rowsTotal: number;
  batches: number;
  partitions: PartitionProgress[];
}

export type HealthStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface HealthCheck {
  name: string;
  status: HealthStatus;
  detail: string;
  /** The measured figure, when there is one (lag in messages, age in seconds). */
  value?: number;
}

export interface HealthReport {
  checkedAt: string;
  overall: 'ok' | 'degraded' | 'down';
  checks: HealthCheck[];
}

/** Input of healthCheckWorkflow. */
export interface HealthCheckInput {
  /** Pipeline workflow whose streamer heartbeats are checked (default logstream-pipeline). */
  pipelineWorkflowId?: string;
  /** Heartbeat older than this is a failure (default 3 × temporal.heartbeat_timeout_seconds). */
  maxHeartbeatAgeSeconds?: number;
  /** Newest Delta commit older than this is a warning (default 15 minutes). */
  maxDeltaAgeSeconds?: number;
}

/** Input of maintenanceWorkflow. */
export interface MaintenanceInput {
  /** Folder holding the tables (default delta.root). */
  deltaRoot?: string;
  vacuumRetentionHours?: number;
  logRetentionDays?: number;
  /** Skip VACUUM (keeps old files, e.g. while a reader lags far behind). */
  skipVacuum?: boolean;
}

export interface TableMaintenanceResult {
  table: string;
  filesCompacted: number;
  filesRemoved: number;
  checkpointVersion?: number;
  logFilesRemoved: number;
}

export interface MaintenanceReport {
  deltaRoot: string;
  tables: TableMaintenanceResult[];
}

/** Input of trainingWorkflow. */
export interface TrainingInput {
  trainingSamples?: number;
  lookbackHours?: number;
  /** Pipelines to tell about a promoted model; default: every running pipelineWorkflow. */
  pipelineWorkflowIds?: string[];
}

export interface TrainingOutcome {
  promoted: boolean;
  /** Why the gate promoted the version or kept the champion, as `logstream train` says it. */
  reason?: string;
  version: string;
  metrics?: Record<string, number>;
}

export interface TrainingReport extends TrainingOutcome {
  /** Pipelines that were signalled to reload the model. */
  pipelinesSignalled: string[];
}
