// Fixed names shared by the workflows, the CLI and schedules.
export const DEFAULT_PIPELINE_WORKFLOW_ID = 'logstream-pipeline';
/** Schedules created by `logstream schedules apply` carry this prefix. */
export const SCHEDULE_ID_PREFIX = 'logstream-';
