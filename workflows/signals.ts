// Signal and query definitions shared by workflows, activities and the CLI.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { HealthReport, PipelineStatus, StreamerProgress } from './types.js';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Drain: cancel every streamer, wait for their clean exit, then finish the workflow. */
export const stopSignal = defineSignal('stop');
export const scaleSignal = defineSignal<[number]>('scale');
/** A version number or "champion"; running streamers switch between batches. */
export const reloadModelSignal = defineSignal<[string]>('reloadModel');
/** Sent by runStreamer activities: progress for the status query. */
export const streamerProgressSignal = defineSignal<[StreamerProgress]>('streamerProgress');

export const statusQuery = defineQuery<PipelineStatus>('status');
/** Polled by running streamers between batches. */
export const desiredModelQuery = defineQuery<string>('desiredModel');
export const healthReportQuery = defineQuery<HealthReport | undefined>('report');
