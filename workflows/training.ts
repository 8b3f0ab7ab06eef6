// trainingWorkflow: train and maybe promote a model, then tell running pipelines to hot-swap.
import { proxyActivities } from '@temporalio/workflow';
import type { TrainingActivities } from './interfaces.js';
import type { TrainingInput, TrainingReport } from './types.js';

const training = proxyActivities<TrainingActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['TrainingDataError', 'ConfigError'] },
});
const signalling = proxyActivities<TrainingActivities>({ startToCloseTimeout: '1 minute' });

export async function trainingWorkflow(input: TrainingInput = {}): Promise<TrainingReport> {
  const outcome = await training.trainModel(input);
  const pipelinesSignalled = outcome.promoted
    ? await signalling.signalPipelines({ version: outcome.version, workflowIds: input.pipelineWorkflowIds })
    : [];
  return { ...outcome, pipelinesSignalled };
}
