// maintenanceWorkflow: OPTIMIZE, checkpoint, VACUUM and log cleanup on every table under the Delta root.
import { proxyActivities } from '@temporalio/workflow';
import type { MaintenanceActivities } from './interfaces.js';
import type { MaintenanceInput, MaintenanceReport } from './types.js';

const planning = proxyActivities<MaintenanceActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 3 } });
const work = proxyActivities<MaintenanceActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function maintenanceWorkflow(input: MaintenanceInput = {}): Promise<MaintenanceReport> {
  const plan = await planning.resolveMaintenance(input);
  const tables = [];
  // One table at a time: maintenance competes with the streamers for the same disk and CPU.
  for (const table of plan.tables) tables.push(await work.maintainTable(table));
  return { deltaRoot: plan.deltaRoot, tables };
}
