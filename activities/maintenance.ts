// Activities of maintenanceWorkflow: one table at a time, heartbeating while the engine works.
import { Context } from '@temporalio/activity';
import type { MaintenanceActivities, TableMaintenanceRequest } from '../workflows/interfaces.js';
import type { MaintenanceInput, TableMaintenanceResult } from '../workflows/types.js';
import type { ActivityDependencies } from './ports.js';

export function createMaintenanceActivities(deps: ActivityDependencies): MaintenanceActivities {
  return {
    async resolveMaintenance(input: MaintenanceInput): Promise<{ deltaRoot: string; tables: TableMaintenanceRequest[] }> {
      const deltaRoot = input?.deltaRoot ?? deps.config.delta.root;
      const tables = await deps.maintenance.listTables(deltaRoot);
      return {
        deltaRoot,
        tables: tables.map((tablePath) => ({
          tablePath,
          vacuumRetentionHours: input?.vacuumRetentionHours ?? deps.config.delta.vacuum_retention_hours,
          logRetentionDays: input?.logRetentionDays ?? deps.config.delta.log_retention_days,
          skipVacuum: input?.skipVacuum ?? false,
        })),
      };
    },

    async maintainTable(request: TableMaintenanceRequest): Promise<TableMaintenanceResult> {
      const context = Context.current();
      const timer = setInterval(() => context.heartbeat({ table: request.tablePath }), 5_000);
      try {
        return await deps.maintenance.maintainTable(request.tablePath, {
          vacuumRetentionHours: request.vacuumRetentionHours,
          logRetentionDays: request.logRetentionDays,
          skipVacuum: request.skipVacuum,
          targetFileSizeBytes: deps.config.delta.target_file_size_mb * 1024 * 1024,
          signal: context.cancellationSignal,
        });
      } finally {
        clearInterval(timer);
      }
    },
  };
}
