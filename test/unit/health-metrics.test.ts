// Health-check results reach Prometheus: one info series per check at its current status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportHealth } from '../../activities/health.js';
import { registry } from '../../clients/metrics/index.js';

const series = async () =>
  (await registry.getSingleMetricAsString('logstream_health_check_info')).split('\n').filter((line) => !line.startsWith('#'));

describe('health-check metrics', () => {
  it('exports each check at its latest status only, the overall verdict and the time of the run', async () => {
    exportHealth({
      checkedAt: '2026-11-28T10:00:00.000Z',
      overall: 'ok',
      checks: [
        { name: 'kafka', status: 'ok', detail: '' },
        { name: 'mlflow', status: 'unknown', detail: '' },
      ],
    });
    assert.deepEqual(
      new Set(await series()),
      new Set([
        'logstream_health_check_info{check="kafka",status="ok"} 1',
        'logstream_health_check_info{check="mlflow",status="unknown"} 1',
        'logstream_health_check_info{check="overall",status="ok"} 1',
      ]),
    );
    exportHealth({
      checkedAt: '2026-11-28T10:05:00.000Z',
      overall: 'down',
      checks: [
        { name: 'kafka', status: 'fail', detail: 'unreachable' },
        { name: 'mlflow', status: 'ok', detail: '' },
      ],
    });
    assert.deepEqual(
      new Set(await series()),
      new Set([
        'logstream_health_check_info{check="kafka",status="fail"} 1',
        'logstream_health_check_info{check="mlflow",status="ok"} 1',
        'logstream_health_check_info{check="overall",status="down"} 1',
      ]),
    );
    assert.match(
      await registry.getSingleMetricAsString('logstream_health_checked_at_seconds'),
      new RegExp(`logstream_health_checked_at_seconds ${Date.UTC(2026, 10, 28, 10, 5) / 1000}`),
    );
  });
});
