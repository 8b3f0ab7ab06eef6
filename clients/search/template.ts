// The one mapping and composable index template both engines share (`_index_template`, 7.8+ / OpenSearch 1+).
import { logsIndexPattern } from './document.js';

/** Bumped when the mapping changes, stored in the template's _meta so `ensureIndexTemplate` can tell. */
export const mappingVersion = 1;

const keyword = { type: 'keyword', ignore_above: 2048 } as const;

export const logsMapping = {
  // Unknown fields stay in _source but are not indexed: a new producer field cannot break ingestion.
  dynamic: false,
  properties: {
    '@timestamp': { type: 'date' },
    event: { properties: { ingested: { type: 'date' }, duration: { type: 'long' } } },
    source: { properties: { ip: { type: 'ip' }, address: keyword } },
    http: {
      properties: {
        request: { properties: { method: { type: 'keyword' }, referrer: keyword } },
        response: { properties: { status_code: { type: 'long' }, body: { properties: { bytes: { type: 'long' } } } } },
      },
    },
    url: { properties: { path: keyword, query: keyword } },
    user_agent: { properties: { original: { type: 'keyword', ignore_above: 1024 } } },
    logstream: {
      properties: {
        path_template: keyword,
        response_time_ms: { type: 'float' },
        label: { type: 'keyword' },
        kafka: {
          properties: {
            topic: { type: 'keyword' },
            partition: { type: 'integer' },
            offset: { type: 'long' },
            timestamp: { type: 'date' },
          },
        },
        anomaly: {
          properties: {
            score: { type: 'float' },
            is_anomaly: { type: 'boolean' },
            cluster: { type: 'integer' },
            model_version: { type: 'keyword' },
          },
        },
      },
    },
  },
} as const;

export interface LogsTemplateOptions {
  /** Replica count; 0 keeps a one-node engine green. */
  replicas: number;
  /** Index settings the lifecycle adapter adds (e.g. index.lifecycle.name for ILM). */
  lifecycleSettings: Record<string, string>;
}

export function logsTemplateName(prefix: string): string {
  return `${prefix}-logs`;
}

/** Body of PUT _index_template/<prefix>-logs. */
export function logsIndexTemplate(prefix: string, options: LogsTemplateOptions) {
  return {
    index_patterns: [logsIndexPattern(prefix)],
    // Above the built-in templates (priority 100-ish) so ours decides for our indices.
    priority: 200,
    template: {
      settings: {
        number_of_shards: 1,
        number_of_replicas: options.replicas,
        ...options.lifecycleSettings,
      } as Record<string, string | number>,
      mappings: logsMapping,
    },
    _meta: { managed_by: 'logstream', mapping_version: mappingVersion },
  };
}

export type LogsIndexTemplate = ReturnType<typeof logsIndexTemplate>;
