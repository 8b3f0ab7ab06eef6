// The workflows the logstream worker bundles (webpack entry: every export is a workflow type).
export { pipelineWorkflow } from './pipeline.js';
export { trainingWorkflow } from './training.js';
export { healthCheckWorkflow } from './health.js';
export { maintenanceWorkflow } from './maintenance.js';
