// Every activity the logstream worker registers, built from its dependencies.
import type { Client } from '@temporalio/client';
import { createHealthActivities } from './health.js';
import { createMaintenanceActivities } from './maintenance.js';
import { createPipelineActivities } from './pipeline.js';
import type { ActivityDependencies } from './ports.js';
import { createTrainingActivities } from './training.js';

export function createActivities(deps: ActivityDependencies, getClient: () => Promise<Client>) {
  return {
    ...createPipelineActivities(deps, getClient),
    ...createHealthActivities(deps, getClient),
    ...createMaintenanceActivities(deps),
    ...createTrainingActivities(deps, getClient),
  };
}

export type LogstreamActivities = ReturnType<typeof createActivities>;
