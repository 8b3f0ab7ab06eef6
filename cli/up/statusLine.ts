// The one-line live summary `logstream up` keeps on screen. Pure: status in, text out.
import { learningSummary } from '../../workflows/pipelineLogic.js';
import type { PipelineStatus } from '../../workflows/types.js';

export function statusLine(status: PipelineStatus | undefined, now: Date): string {
  const time = now.toISOString().slice(11, 19);
  if (!status) return `${time}  pipeline starting…`;
  const rows = status.streamers.reduce((sum, streamer) => sum + (streamer.rowsTotal ?? 0), 0);
  const rate = status.streamers.reduce((sum, streamer) => sum + (streamer.rowsPerSecond ?? 0), 0);
  const lag = status.streamers.flatMap((streamer) => streamer.partitions ?? []).reduce((sum, partition) => sum + (partition.lag ?? 0), 0);
  const models = [...new Set(status.streamers.map((streamer) => streamer.modelVersion).filter(Boolean))];
  const lastCommit = status.streamers
    .map((streamer) => streamer.lastCommitAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  const commitAge = lastCommit ? `${Math.max(0, Math.round((now.getTime() - Date.parse(lastCommit)) / 1000))}s ago` : 'none yet';
  return [
    time,
    status.state,
    `streamers ${status.runningStreamers}/${status.desiredStreamers}`,
    `rows ${rows.toLocaleString('en-US')}`,
    `${rate.toFixed(1)} rows/s`,
    `lag ${lag.toLocaleString('en-US')}`,
    `last commit ${commitAge}`,
    learningSummary(status.learning) ?? `model ${models.join(',') || status.desiredModelVersion}`,
  ].join('  ');
}
