// The four Grafana dashboards, written against Grafana's own dashboard types (@grafana/schema) so
// the compiler checks them. `npm run dashboards` writes them to infra/grafana/dashboards/*.json,
// which Grafana loads through infra/grafana/provisioning/dashboards/dashboards.yml.
// PromQL that may have no series yet (no conflicts, no failures) ends in `or vector(0)` so every
// panel shows a value instead of "No data".
import type { Dashboard, Panel } from '@grafana/schema';

export const PROMETHEUS = { type: 'prometheus', uid: 'prometheus' } as const;
export const SEARCH = { type: 'grafana-opensearch-datasource', uid: 'search-logs' } as const;

interface PromTarget {
  expr: string;
  legend?: string;
}

type PanelKind = 'timeseries' | 'stat' | 'table' | 'heatmap' | 'bargauge';

const WIDTH = 24;
let nextPanelId = 1;

function promPanel(
  title: string,
  description: string,
  kind: PanelKind,
  unit: string,
  targets: PromTarget[],
  size = { w: 12, h: 8 },
): Panel {
  return {
    id: nextPanelId++,
    type: kind,
    title,
    description,
    datasource: PROMETHEUS,
    gridPos: { x: 0, y: 0, ...size },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: kind === 'table' ? { showHeader: true } : {},
    targets: targets.map((target, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: PROMETHEUS,
      expr: target.expr,
      legendFormat: target.legend ?? '__auto',
      ...(kind === 'table' ? { format: 'table', instant: true } : {}),
    })),
  };
}

/** Lays panels out left to right, wrapping at Grafana's 24-column grid. */
function layout(panels: Panel[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const panel of panels) {
    const grid = panel.gridPos!;
    if (x + grid.w > WIDTH) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    panel.gridPos = { ...grid, x, y };
    x += grid.w;
    rowHeight = Math.max(rowHeight, grid.h);
  }
  return panels;
}

function dashboard(uid: string, title: string, description: string, panels: Panel[]): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['logstream'],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    refresh: '10s',
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    templating: { list: [] },
    annotations: { list: [] },
    links: [],
    panels: layout(panels),
  };
}

const quantile = (q: number, metric: string, by: string, window = '5m') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket[${window}])))`;

function operational(): Dashboard {
  return dashboard(
    'logstream-operational',
    'LogStream — Operational',
    'Is the pipeline healthy: streamers alive, lag, throughput per sink, dead letters, commit and bulk latency.',
    [
      promPanel(
        'Streamers reporting',
        'Streamers that exported a heartbeat age (one series per running streamer).',
        'stat',
        'none',
        [{ expr: 'count(logstream_streamer_heartbeat_age_seconds) or vector(0)', legend: 'streamers' }],
        { w: 6, h: 5 },
      ),
      promPanel(
        'Oldest heartbeat',
        'Seconds since the least recently active streamer finished a batch or heartbeat; above the heartbeat timeout (30 s) Temporal moves it to another worker.',
        'stat',
        's',
        [{ expr: 'max(logstream_streamer_heartbeat_age_seconds) or vector(0)', legend: 'age' }],
        { w: 6, h: 5 },
      ),
      promPanel(
        'Consumed',
        'Kafka messages read per second, all streamers.',
        'stat',
        'reqps',
        [{ expr: 'sum(rate(logstream_records_consumed_total[1m])) or vector(0)', legend: 'messages/s' }],
        { w: 6, h: 5 },
      ),
      promPanel(
        'Total Kafka lag',
        'Messages not yet processed, summed over partitions.',
        'stat',
        'short',
        [{ expr: 'sum(logstream_kafka_consumer_lag_messages) or vector(0)', legend: 'lag' }],
        { w: 6, h: 5 },
      ),
      promPanel(
        'Throughput by sink and outcome',
        'Records per second handed to each sink (delta tables, search, alerts, dead letters), by outcome.',
        'timeseries',
        'reqps',
        [{ expr: 'sum by (sink, outcome) (rate(logstream_sink_records_total[1m]))', legend: '{{sink}} {{outcome}}' }],
      ),
      promPanel('Kafka lag by partition', 'High watermark minus processed offset, per partition.', 'timeseries', 'short', [
        { expr: 'sum by (topic, partition) (logstream_kafka_consumer_lag_messages)', legend: '{{topic}}/{{partition}}' },
      ]),
      promPanel(
        'Dead letters by reason',
        'Messages sent to the dead-letter topic and quarantine table per second, by reason code.',
        'timeseries',
        'reqps',
        [{ expr: 'sum by (reason) (rate(logstream_dead_letter_records_total[5m])) or vector(0)', legend: '{{reason}}' }],
      ),
      promPanel('Batch duration p95 by stage', 'How long each stage of a micro-batch takes (95th percentile).', 'timeseries', 's', [
        { expr: quantile(0.95, 'logstream_batch_duration_seconds', 'stage'), legend: '{{stage}}' },
      ]),
      promPanel('Batch size', 'Messages per micro-batch, median and 95th percentile.', 'timeseries', 'short', [
        { expr: quantile(0.5, 'logstream_batch_size_records', ''), legend: 'p50' },
        { expr: quantile(0.95, 'logstream_batch_size_records', ''), legend: 'p95' },
      ]),
      promPanel('Delta commit p99 by table', "Time to write a batch's data files and commit it, by table.", 'timeseries', 's', [
        { expr: quantile(0.99, 'logstream_delta_commit_duration_seconds', 'table'), legend: '{{table}}' },
      ]),
      promPanel(
        'Delta commit conflicts',
        'Commits that did not land in the last 15 minutes, by resolution (refused: another writer moved the partition on; failed: retried).',
        'timeseries',
        'short',
        [
          {
            expr: 'sum by (table, resolution) (increase(logstream_delta_commit_conflicts_total[15m])) or vector(0)',
            legend: '{{table}} {{resolution}}',
          },
        ],
      ),
      promPanel(
        'Search bulk latency and failures',
        'Duration of _bulk requests (p95) and failed documents per second.',
        'timeseries',
        's',
        [
          { expr: quantile(0.95, 'logstream_search_bulk_duration_seconds', ''), legend: 'bulk p95' },
          { expr: 'sum by (reason) (rate(logstream_search_bulk_failures_total[5m])) or vector(0)', legend: 'failures/s {{reason}}' },
        ],
      ),
    ],
  );
}

const scored = (filter = '', window = '5m') => `sum(rate(logstream_scored_records_total${filter}[${window}]))`;

function anomaly(): Dashboard {
  return dashboard(
    'logstream-anomaly',
    'LogStream — Anomalies',
    'What is anomalous right now: anomaly rate over time, by endpoint, by scenario and cluster, and the latest anomalies from the search engine.',
    [
      promPanel(
        'Anomaly rate',
        'Share of scored logs flagged as anomalies.',
        'timeseries',
        'percentunit',
        [{ expr: `(${scored('{predicted="anomaly"}')} or vector(0)) / clamp_min(${scored()}, 1e-9)`, legend: 'anomaly rate' }],
        { w: 16, h: 8 },
      ),
      promPanel(
        'Anomalies (15 min)',
        'Anomalies flagged in the last 15 minutes.',
        'stat',
        'short',
        [{ expr: 'sum(increase(logstream_anomalies_total[15m])) or vector(0)', legend: 'anomalies' }],
        { w: 8, h: 8 },
      ),
      promPanel('Anomalies by endpoint', 'Top endpoints by anomalies in the last 15 minutes.', 'bargauge', 'short', [
        { expr: 'topk(10, sum by (endpoint) (increase(logstream_anomalies_total[15m])))', legend: '{{endpoint}}' },
      ]),
      promPanel(
        'Anomalies by scenario label',
        'Anomalies by the ground-truth label the generator attached (none for real traffic).',
        'timeseries',
        'short',
        [{ expr: 'sum by (label) (increase(logstream_anomalies_total[5m]))', legend: '{{label}}' }],
      ),
      promPanel('Anomalies by predicted cluster', 'Which cluster the anomalous logs were nearest to.', 'timeseries', 'short', [
        { expr: 'sum by (cluster) (increase(logstream_anomalies_total[5m]))', legend: 'cluster {{cluster}}' },
      ]),
      {
        id: nextPanelId++,
        type: 'table',
        title: 'Latest anomalies',
        description: 'The most recent logs flagged as anomalies, from the search engine.',
        datasource: SEARCH,
        gridPos: { x: 0, y: 0, w: 24, h: 10 },
        options: { showHeader: true },
        targets: [
          {
            refId: 'A',
            datasource: SEARCH,
            query: 'logstream.anomaly.is_anomaly:true',
            queryType: 'lucene',
            timeField: '@timestamp',
            metrics: [{ id: '1', type: 'raw_data', settings: { size: '50' } }],
            bucketAggs: [],
          },
        ],
      },
    ],
  );
}

function performance(): Dashboard {
  const requestsBy = (filter: string) => `sum by (endpoint) (rate(logstream_http_requests_total${filter}[5m]))`;
  return dashboard(
    'logstream-performance',
    'LogStream — Web performance',
    "How the web site behaves according to its logs: response-time percentiles and error rates by endpoint, status mix, and the pipeline's end-to-end latency.",
    [
      promPanel('Response time p95 by endpoint', '95th percentile response time per endpoint template.', 'timeseries', 's', [
        { expr: quantile(0.95, 'logstream_http_response_time_seconds', 'endpoint'), legend: '{{endpoint}}' },
      ]),
      promPanel('Response time percentiles, all endpoints', 'p50, p95 and p99 over every request.', 'timeseries', 's', [
        { expr: quantile(0.5, 'logstream_http_response_time_seconds', ''), legend: 'p50' },
        { expr: quantile(0.95, 'logstream_http_response_time_seconds', ''), legend: 'p95' },
        { expr: quantile(0.99, 'logstream_http_response_time_seconds', ''), legend: 'p99' },
      ]),
      promPanel('Error rate by endpoint', 'Share of 5xx responses per endpoint.', 'timeseries', 'percentunit', [
        {
          expr: `(${requestsBy('{status_class="5xx"}')} or ${requestsBy('')} * 0) / clamp_min(${requestsBy('')}, 1e-9)`,
          legend: '{{endpoint}}',
        },
      ]),
      promPanel('Requests by status class', 'Requests per second by 2xx/3xx/4xx/5xx.', 'timeseries', 'reqps', [
        { expr: 'sum by (status_class) (rate(logstream_http_requests_total[1m]))', legend: '{{status_class}}' },
      ]),
      promPanel('Busiest endpoints', 'Requests per second, top 10 endpoints.', 'bargauge', 'reqps', [
        { expr: `topk(10, ${requestsBy('')})`, legend: '{{endpoint}}' },
      ]),
      promPanel(
        'End-to-end latency',
        'From the Kafka produce time to the Delta commit and to the anomaly alert, p50 and p99.',
        'timeseries',
        's',
        [
          { expr: quantile(0.5, 'logstream_end_to_end_latency_seconds', 'sink'), legend: '{{sink}} p50' },
          { expr: quantile(0.99, 'logstream_end_to_end_latency_seconds', 'sink'), legend: '{{sink}} p99' },
        ],
      ),
    ],
  );
}

function machineLearning(): Dashboard {
  const truePositives = scored('{predicted="anomaly", label!~"normal|none"}', '15m');
  return dashboard(
    'logstream-ml',
    'LogStream — Model',
    'Which model scores the stream and how well: model version and backend, training metrics, score distribution, and precision/recall where logs carry ground-truth labels.',
    [
      promPanel(
        'Model in use',
        'Registry version, feature spec and TensorFlow.js backend of the model each worker scores with.',
        'table',
        'none',
        [{ expr: 'max by (model_version, feature_spec, backend) (logstream_model_info)' }],
        { w: 12, h: 6 },
      ),
      promPanel(
        'Training runs',
        'Trainings by outcome: promoted to champion, kept the current champion, or failed.',
        'stat',
        'short',
        [{ expr: 'sum by (outcome) (logstream_training_runs_total) or vector(0)', legend: '{{outcome}}' }],
        { w: 12, h: 6 },
      ),
      promPanel(
        'Latest training metrics',
        'k, silhouette, precision, recall, F1 and false-positive rate of the latest training run on its held-out set.',
        'table',
        'none',
        [{ expr: 'max by (metric) (logstream_training_metric) or vector(0)' }],
        { w: 12, h: 8 },
      ),
      {
        ...promPanel('Score distribution', 'Anomaly scores per bucket (1 = the calibrated threshold).', 'heatmap', 'short', [
          { expr: 'sum by (le) (rate(logstream_anomaly_score_bucket[1m]))', legend: '{{le}}' },
        ]),
        targets: [
          {
            refId: 'A',
            datasource: PROMETHEUS,
            expr: 'sum by (le) (rate(logstream_anomaly_score_bucket[1m]))',
            legendFormat: '{{le}}',
            format: 'heatmap',
          },
        ],
      },
      promPanel(
        'Precision and recall (labeled traffic)',
        'Over the last 15 minutes, for logs that carry a ground-truth label: precision = flagged and truly anomalous / flagged; recall = flagged and truly anomalous / truly anomalous.',
        'timeseries',
        'percentunit',
        [
          { expr: `(${truePositives} or vector(0)) / clamp_min(${scored('{predicted="anomaly"}', '15m')}, 1e-9)`, legend: 'precision' },
          { expr: `(${truePositives} or vector(0)) / clamp_min(${scored('{label!~"normal|none"}', '15m')}, 1e-9)`, legend: 'recall' },
        ],
        { w: 24, h: 8 },
      ),
    ],
  );
}

export function buildDashboards(): Record<string, Dashboard> {
  nextPanelId = 1;
  return {
    'operational.json': operational(),
    'anomaly.json': anomaly(),
    'performance.json': performance(),
    'ml.json': machineLearning(),
  };
}

/** Every PromQL expression of a dashboard, with its panel title. */
export function promQueries(board: Dashboard): Array<{ panel: string; expr: string }> {
  return (board.panels ?? []).flatMap((panel) =>
    ((panel as Panel).targets ?? [])
      .filter((target) => (target.datasource as { type?: string } | undefined)?.type === 'prometheus')
      .map((target) => ({ panel: panel.title ?? '', expr: String((target as { expr?: string }).expr) })),
  );
}
