// The activities each workflow calls: the contracts the workflows own and activities/ implements
// (activities/*.ts return objects that satisfy them). Workflows import only these types, so
// workflows/ never points at activities/; activities/ depends on workflows/ for its contracts.
import type {
  HealthCheckInput,
  HealthReport,
  LearningProgress,
  MaintenanceInput,
  PipelineInput,
  PipelineSettings,
  StreamerRunInput,
  StreamerRunResult,
  TableMaintenanceResult,
  TrainingInput,
  TrainingOutcome,
} from './types.js';

/** Activities of pipelineWorkflow. */
export interface PipelineActivities {
  /** The input with every default filled in from the worker's configuration. */
  resolvePipelineSettings(input: PipelineInput): Promise<PipelineSettings>;
  /** Topics, Delta tables and the search index template exist afterwards. */
  ensurePipelineResources(settings: PipelineSettings): Promise<void>;
  /** One bounded run of one streamer (a consumer-group member); heartbeats, stops on cancellation. */
  runStreamer(input: StreamerRunInput): Promise<StreamerRunResult>;
  /** The registry's champion (may it score this traffic?) and how much of the site's traffic Delta holds. */
  learningProgress(settings: PipelineSettings): Promise<LearningProgress>;
}

/** Activities of healthCheckWorkflow. */
export interface HealthActivities {
  checkHealth(input: HealthCheckInput): Promise<HealthReport>;
}

/** Activities of trainingWorkflow. */
export interface TrainingActivities {
  trainModel(input: TrainingInput): Promise<TrainingOutcome>;
  /** Tells running pipelines (all, or the ones named) to score with `version`; returns the ids told. */
  signalPipelines(request: { version: string; workflowIds?: string[] }): Promise<string[]>;
}

/** One table's maintenance, as planned by resolveMaintenance. */
export interface TableMaintenanceRequest {
  tablePath: string;
  vacuumRetentionHours: number;
  logRetentionDays: number;
  skipVacuum: boolean;
}

/** Activities of maintenanceWorkflow. */
export interface MaintenanceActivities {
  resolveMaintenance(input: MaintenanceInput): Promise<{ deltaRoot: string; tables: TableMaintenanceRequest[] }>;
  maintainTable(request: TableMaintenanceRequest): Promise<TableMaintenanceResult>;
}
