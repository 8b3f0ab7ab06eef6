// Activities of healthCheckWorkflow: probes every outside system and the streamers' heartbeats.
import type { Client } from '@temporalio/client';
import type { HealthActivities } from '../workflows/interfaces.js';
import type { HealthCheck, HealthCheckInput, HealthReport } from '../workflows/types.js';
import { DEFAULT_PIPELINE_WORKFLOW_ID } from '../workflows/ids.js';
import type { ActivityDependencies, HealthProbes } from './ports.js';
import { heartbeatAgeCheck, lagCheck, summariseHealth } from './healthLogic.js';
import { statusQuery } from '../workflows/signals.js';
import { healthCheck, healthCheckedAt } from '../clients/metrics/index.js';

const DEFAULT_MAX_DELTA_AGE_SECONDS = 15 * 60;

export function createHealthActivities(deps: ActivityDependencies, getClient: () => Promise<Client>): HealthActivities {
  return {
    async checkHealth(input: HealthCheckInput): Promise<HealthReport> {
      const config = deps.config;
      const maxHeartbeatAgeSeconds = input?.maxHeartbeatAgeSeconds ?? 3 * config.temporal.heartbeat_timeout_seconds;
      const maxDeltaAgeSeconds = input?.maxDeltaAgeSeconds ?? DEFAULT_MAX_DELTA_AGE_SECONDS;
      const probes: Array<[string, (() => Promise<HealthCheck>) | undefined]> = [
        ['kafka', bind(deps.health, 'kafkaBroker', () => deps.health.kafkaBroker!(config))],
        ['delta-freshness', bind(deps.health, 'deltaFreshness', () => deps.health.deltaFreshness!(config, maxDeltaAgeSeconds))],
        ['search-engine', bind(deps.health, 'searchHealth', () => deps.health.searchHealth!(config))],
        ['mlflow', bind(deps.health, 'mlflowHealth', () => deps.health.mlflowHealth!(config))],
      ];
      const pipelineWorkflowId = input?.pipelineWorkflowId ?? DEFAULT_PIPELINE_WORKFLOW_ID;
      const [probed, pipeline] = await Promise.all([
        Promise.all(probes.map(([name, probe]) => runProbe(name, probe))),
        pipelineChecks(getClient, pipelineWorkflowId, maxHeartbeatAgeSeconds).catch((error: Error) => [
          { name: 'streamer-heartbeats', status: 'fail' as const, detail: error.message.split('\n')[0] ?? 'failed' },
        ]),
      ]);
      const report = summariseHealth([...probed, ...pipeline], new Date());
      exportHealth(report);
      return report;
    },
  };
}

/** Each check's status as an info series (the series of its previous status goes), and the time of the run. */
export function exportHealth(report: HealthReport): void {
  for (const check of [...report.checks, { name: 'overall', status: report.overall }]) {
    for (const status of ['ok', 'warn', 'fail', 'unknown', 'degraded', 'down'])
      if (status !== check.status) healthCheck.remove(check.name, status);
    healthCheck.labels(check.name, check.status).set(1);
  }
  healthCheckedAt.set(Date.parse(report.checkedAt) / 1000);
}

function bind(probes: HealthProbes, key: keyof HealthProbes, call: () => Promise<HealthCheck>) {
  return probes[key] ? call : undefined;
}

async function runProbe(name: string, probe: (() => Promise<HealthCheck>) | undefined): Promise<HealthCheck> {
  if (!probe) return { name, status: 'unknown', detail: 'no probe wired in this worker' };
  try {
    return await probe();
  } catch (error) {
    return { name, status: 'fail', detail: (error as Error).message.split('\n')[0] ?? 'failed' };
  }
}

/** Streamer heartbeat age (from Temporal) and consumer lag (from the pipeline's status query). */
async function pipelineChecks(getClient: () => Promise<Client>, workflowId: string, maxAgeSeconds: number): Promise<HealthCheck[]> {
  const client = await getClient();
  const handle = client.workflow.getHandle(workflowId);
  let description: Awaited<ReturnType<typeof handle.describe>>;
  try {
    description = await handle.describe();
  } catch {
    return [{ name: 'streamer-heartbeats', status: 'warn', detail: `no pipeline workflow ${workflowId}` }];
  }
  if (description.status.name !== 'RUNNING') {
    return [{ name: 'streamer-heartbeats', status: 'warn', detail: `pipeline ${workflowId} is ${description.status.name.toLowerCase()}` }];
  }
  const heartbeats = (description.raw.pendingActivities ?? []).map((activity) => {
    const seconds = activity.lastHeartbeatTime?.seconds;
    return seconds === undefined || seconds === null
      ? undefined
      : Number(seconds) * 1000 + Math.floor((activity.lastHeartbeatTime?.nanos ?? 0) / 1e6);
  });
  const status = await handle.query(statusQuery);
  return [heartbeatAgeCheck(heartbeats, Date.now(), maxAgeSeconds), lagCheck(status)];
}
