// Deleting daily log indices after N days, behind one small adapter: ILM on Elasticsearch with
// x-pack, ISM on OpenSearch with the index-management plugin, and, on engines that have neither
// (such as the Maven-assembled nodes of the local stack), a client-side sweep that deletes expired
// daily indices by name, which the maintenance workflow runs on its schedule.
import { logsIndexDayMs, logsIndexPattern } from './document.js';
import type { SearchEngine } from './engine.js';

export type LifecycleMode = 'ilm' | 'ism' | 'client-side';

export interface LifecycleSetup {
  mode: LifecycleMode;
  policyName: string;
  /** Index settings the template must carry for this mode. */
  templateSettings: Record<string, string>;
}

const dayMs = 86_400_000;

export function retentionPolicyName(prefix: string): string {
  return `${prefix}-logs-retention`;
}

/** Daily indices whose every event is older than retentionDays at nowMs. */
export function expiredIndexNames(names: readonly string[], prefix: string, retentionDays: number, nowMs: number): string[] {
  return names.filter((name) => {
    const day = logsIndexDayMs(prefix, name);
    return day !== undefined && day + dayMs + retentionDays * dayMs <= nowMs;
  });
}

export function ilmPolicy(retentionDays: number) {
  return { policy: { _meta: { managed_by: 'logstream' }, phases: { delete: { min_age: `${retentionDays}d`, actions: { delete: {} } } } } };
}

export function ismPolicy(prefix: string, retentionDays: number) {
  return {
    policy: {
      description: `logstream: delete ${logsIndexPattern(prefix)} indices after ${retentionDays} days`,
      default_state: 'live',
      states: [
        { name: 'live', actions: [], transitions: [{ state_name: 'delete', conditions: { min_index_age: `${retentionDays}d` } }] },
        { name: 'delete', actions: [{ delete: {} }], transitions: [] },
      ],
      // Attaches the policy to every new index of the pattern; no index setting is needed.
      ism_template: [{ index_patterns: [logsIndexPattern(prefix)], priority: 100 }],
    },
  };
}

async function hasIlm(engine: SearchEngine): Promise<boolean> {
  const response = await engine.request({ operation: 'GET /_xpack', method: 'GET', path: '/_xpack', ignoreStatus: [400, 404, 405] });
  const ilm = (response.body as { features?: { ilm?: { available?: boolean; enabled?: boolean } } } | null)?.features?.ilm;
  return response.statusCode === 200 && ilm?.available === true && ilm.enabled === true;
}

async function hasIsm(engine: SearchEngine): Promise<boolean> {
  const response = await engine.request({
    operation: 'GET /_cat/plugins',
    method: 'GET',
    path: '/_cat/plugins',
    querystring: { format: 'json' },
  });
  const plugins = Array.isArray(response.body) ? (response.body as Array<{ component?: string }>) : [];
  return plugins.some((plugin) => plugin.component === 'opensearch-index-management');
}

async function putIsmPolicy(engine: SearchEngine, name: string, body: unknown): Promise<void> {
  const path = `/_plugins/_ism/policies/${encodeURIComponent(name)}`;
  const existing = await engine.request({ operation: 'GET ISM policy', method: 'GET', path, ignoreStatus: [404] });
  // ISM refuses to overwrite a policy without its current sequence number.
  const current = existing.statusCode === 200 ? (existing.body as { _seq_no?: number; _primary_term?: number }) : undefined;
  await engine.request({
    operation: 'PUT ISM policy',
    method: 'PUT',
    path,
    body,
    querystring:
      current?._seq_no !== undefined && current._primary_term !== undefined
        ? { if_seq_no: current._seq_no, if_primary_term: current._primary_term }
        : undefined,
  });
}

/** Installs the engine's retention policy if it has a lifecycle feature; says which mode applies. */
export async function setUpRetention(engine: SearchEngine, prefix: string, retentionDays: number): Promise<LifecycleSetup> {
  const policyName = retentionPolicyName(prefix);
  if (engine.kind === 'elasticsearch' && (await hasIlm(engine))) {
    await engine.request({
      operation: 'PUT ILM policy',
      method: 'PUT',
      path: `/_ilm/policy/${encodeURIComponent(policyName)}`,
      body: ilmPolicy(retentionDays),
    });
    return { mode: 'ilm', policyName, templateSettings: { 'index.lifecycle.name': policyName } };
  }
  if (engine.kind === 'opensearch' && (await hasIsm(engine))) {
    await putIsmPolicy(engine, policyName, ismPolicy(prefix, retentionDays));
    return { mode: 'ism', policyName, templateSettings: {} };
  }
  return { mode: 'client-side', policyName, templateSettings: {} };
}

/** Client-side retention: deletes expired daily indices; returns their names. */
export async function deleteExpiredIndices(engine: SearchEngine, prefix: string, retentionDays: number, nowMs: number): Promise<string[]> {
  const response = await engine.request({
    operation: 'GET /_cat/indices',
    method: 'GET',
    path: `/_cat/indices/${logsIndexPattern(prefix)}`,
    querystring: { format: 'json', h: 'index' },
    ignoreStatus: [404],
  });
  const names = Array.isArray(response.body) ? (response.body as Array<{ index: string }>).map((row) => row.index) : [];
  const expired = expiredIndexNames(names, prefix, retentionDays, nowMs);
  // Named one by one (never a wildcard): a DELETE must not reach further than what was listed.
  for (let start = 0; start < expired.length; start += 50) {
    const names = expired.slice(start, start + 50).join(',');
    await engine.request({ operation: 'DELETE expired indices', method: 'DELETE', path: `/${names}`, ignoreStatus: [404] });
  }
  return expired;
}
