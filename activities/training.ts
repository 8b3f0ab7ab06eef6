// Activities of trainingWorkflow: train through the ML pipeline, then tell running pipelines.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { trainingMetric, trainingRuns } from '../clients/metrics/index.js';
import { reloadModelSignal } from '../workflows/signals.js';
import type { TrainingActivities } from '../workflows/interfaces.js';
import type { TrainingInput, TrainingOutcome } from '../workflows/types.js';
import type { ActivityDependencies } from './ports.js';

/** Visibility query for every running pipeline, whatever its workflow id. */
export const RUNNING_PIPELINES_QUERY = "WorkflowType = 'pipelineWorkflow' AND ExecutionStatus = 'Running'";

export function createTrainingActivities(deps: ActivityDependencies, getClient: () => Promise<Client>): TrainingActivities {
  return {
    async trainModel(input: TrainingInput): Promise<TrainingOutcome> {
      const context = Context.current();
      const timer = setInterval(() => context.heartbeat(), 5_000);
      try {
        const outcome = await deps.trainer.train(deps.config, input ?? {}, context.cancellationSignal);
        trainingRuns.labels(outcome.promoted ? 'promoted' : 'kept').inc();
        for (const [metric, value] of Object.entries(outcome.metrics ?? {}))
          if (Number.isFinite(value)) trainingMetric.labels(metric).set(value);
        return outcome;
      } catch (error) {
        if (!context.cancellationSignal.aborted) trainingRuns.labels('failed').inc();
        throw error;
      } finally {
        clearInterval(timer);
      }
    },

    /** Signals reloadModel(version) to the given pipelines, or to every running one; returns who got it. */
    async signalPipelines(request: { version: string; workflowIds?: string[] }): Promise<string[]> {
      const client = await getClient();
      const workflowIds = request.workflowIds ?? (await listRunningPipelines(client));
      const signalled: string[] = [];
      for (const workflowId of workflowIds) {
        try {
          await client.workflow.getHandle(workflowId).signal(reloadModelSignal, request.version);
          signalled.push(workflowId);
        } catch (error) {
          // A pipeline that ended meanwhile is not an error of the training run.
          if ((error as Error).name !== 'WorkflowNotFoundError') throw error;
        }
      }
      return signalled;
    },
  };
}

export async function listRunningPipelines(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: RUNNING_PIPELINES_QUERY })) ids.push(execution.workflowId);
  return ids;
}
