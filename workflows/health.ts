// healthCheckWorkflow: one probe round over every system; the report is returned and queryable.
import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { HealthActivities } from './interfaces.js';
import { healthReportQuery } from './signals.js';
import type { HealthCheckInput, HealthReport } from './types.js';

const activities = proxyActivities<HealthActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export async function healthCheckWorkflow(input: HealthCheckInput = {}): Promise<HealthReport> {
  let report: HealthReport | undefined;
  setHandler(healthReportQuery, () => report);
  report = await activities.checkHealth(input);
  return report;
}
