// Field mappings: how the JSON access logs of a given server or shipper name their fields, and
// which unit their numbers are in, plus the built-in presets. A mapping is compiled once into
// lookups (compileMapping) so that decoding a message does no per-field string work.

/** The canonical fields a mapping can fill, in the names users write in the configuration. */
export const canonicalFields = [
  'timestamp',
  'client_ip',
  'method',
  'path',
  'query',
  'request',
  'status',
  'response_time',
  'bytes',
  'referrer',
  'user_agent',
  'label',
] as const;
export type CanonicalField = (typeof canonicalFields)[number];

/** Units of a response time, and of a timestamp written as an epoch number. */
export const timeUnits = ['s', 'ms', 'us', 'µs', 'ns'] as const;
export type TimeUnit = (typeof timeUnits)[number];

/** Fields that hold numbers, so a unit or `accept_string` makes sense for them. */
export const numericFields: readonly CanonicalField[] = ['timestamp', 'status', 'response_time', 'bytes'];
export const fieldsWithUnit: readonly CanonicalField[] = ['timestamp', 'response_time'];

/** One source field: the canonical field it fills, with a unit and whether "123" counts as 123. */
export type SourceField = CanonicalField | { to: CanonicalField; unit?: TimeUnit; accept_string?: boolean };

/** A mapping as written in the configuration (`decode.mappings.NAME`) or built in. */
export type MappingDefinition =
  | {
      format?: 'json';
      /** Source field (top-level key, dotted key, or dotted path into nested objects) -> canonical field; the first present source of a field wins. */
      fields: Record<string, SourceField>;
    }
  | {
      format: 'combined';
      /** Unit of a response time appended to the line; auto reads "0.123" as seconds (Nginx) and "123" as microseconds (Apache %D). */
      response_time_unit?: TimeUnit | 'auto';
    };

const seconds = (to: CanonicalField): SourceField => ({ to, unit: 's', accept_string: true });
const fromString = (to: CanonicalField): SourceField => ({ to, accept_string: true });

/** The built-in mappings, by name. */
export const presets = {
  /** The generator's names (`logstream generate`). */
  logstream: {
    fields: {
      timestamp: 'timestamp',
      client_ip: 'client_ip',
      method: 'method',
      path: 'path',
      status: 'status',
      response_time_ms: { to: 'response_time', unit: 'ms' },
      bytes: 'bytes',
      referrer: 'referrer',
      user_agent: 'user_agent',
      label: 'label',
    },
  },
  /** Elastic Common Schema, nested objects or flattened dotted keys (Filebeat, Elastic Agent, ecs-logging libraries). */
  ecs: {
    fields: {
      '@timestamp': 'timestamp',
      'source.ip': 'client_ip',
      'client.ip': 'client_ip',
      'http.request.method': 'method',
      'url.path': 'path',
      'url.original': 'path',
      'url.query': 'query',
      'http.response.status_code': 'status',
      'event.duration': { to: 'response_time', unit: 'ns' },
      'http.response.body.bytes': 'bytes',
      'http.request.referrer': 'referrer',
      'user_agent.original': 'user_agent',
    },
  },
  /** The Python pipeline this project replaces. */
  python_pipeline: {
    fields: {
      timestamp: 'timestamp',
      ip: 'client_ip',
      method: 'method',
      endpoint: 'path',
      status_code: 'status',
      response_time: { to: 'response_time', unit: 'ms' },
      bytes: 'bytes',
      referrer: 'referrer',
      user_agent: 'user_agent',
      label: 'label',
    },
  },
  /**
   * Nginx with a JSON log_format: every variable is written as a string ("status":"200",
   * "request_time":"0.123" seconds, "msec":"1700000000.123" epoch seconds).
   */
  nginx_json: {
    fields: {
      time_iso8601: 'timestamp',
      msec: seconds('timestamp'),
      time_local: 'timestamp',
      remote_addr: 'client_ip',
      request_method: 'method',
      request_uri: 'path',
      uri: 'path',
      args: 'query',
      request: 'request',
      status: fromString('status'),
      request_time: seconds('response_time'),
      body_bytes_sent: fromString('bytes'),
      bytes_sent: fromString('bytes'),
      http_referer: 'referrer',
      http_referrer: 'referrer',
      http_user_agent: 'user_agent',
    },
  },
  /** Apache/Nginx combined or common lines, optionally with a response time appended (bare, rt= or request_time=). */
  combined: { format: 'combined', response_time_unit: 'auto' },
} as const satisfies Record<string, MappingDefinition>;

export type PresetName = keyof typeof presets;
export const presetNames = Object.keys(presets) as PresetName[];

/** What every topic without its own choice reads: the generator's names, ECS and combined lines. */
export const DEFAULT_MAPPINGS: readonly string[] = ['logstream', 'ecs', 'combined'];

const UNIT_TO_MS: Record<TimeUnit, number> = { s: 1000, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };

export function unitToMs(unit: TimeUnit): number {
  return UNIT_TO_MS[unit];
}

/** One source of a canonical field, ready for lookups. */
export interface CompiledSource {
  name: string;
  /** The name's parts when it is dotted, for the nested lookup; split once here, not per message. */
  parts: readonly string[] | null;
  /** Multiplier from the source's unit to milliseconds (timestamps given as numbers, response times). */
  toMs: number;
  acceptString: boolean;
}

export interface CompiledJsonMapping {
  kind: 'json';
  name: string;
  /** Sources per canonical field, in the order they are tried; empty when the mapping does not fill it. */
  sources: Record<CanonicalField, readonly CompiledSource[]>;
  /** Whether the mapping reads the request line ("GET /a HTTP/1.1") instead of method and path. */
  readsRequestLine: boolean;
}

export interface CompiledCombinedMapping {
  kind: 'combined';
  name: string;
  /** Multiplier to milliseconds of an appended response time; null = auto (dot: seconds, integer: microseconds). */
  responseTimeToMs: number | null;
}

export type CompiledMapping = CompiledJsonMapping | CompiledCombinedMapping;

export class MappingError extends Error {}

/** Compiles one mapping definition; throws MappingError for a definition that cannot work. */
export function compileMapping(name: string, definition: MappingDefinition): CompiledMapping {
  if (definition.format === 'combined') {
    const unit = definition.response_time_unit ?? 'auto';
    return { kind: 'combined', name, responseTimeToMs: unit === 'auto' ? null : unitToMs(unit) };
  }
  const sources = Object.fromEntries(canonicalFields.map((field) => [field, [] as CompiledSource[]])) as Record<
    CanonicalField,
    CompiledSource[]
  >;
  for (const [sourceName, spec] of Object.entries(definition.fields)) {
    const { to, unit, accept_string: acceptString = false } = typeof spec === 'string' ? { to: spec } : spec;
    if (!canonicalFields.includes(to)) throw new MappingError(`mapping ${name}: ${sourceName} maps to unknown field ${to}`);
    if (unit !== undefined && !fieldsWithUnit.includes(to)) {
      throw new MappingError(`mapping ${name}: ${sourceName} has a unit, but ${to} takes none (only ${fieldsWithUnit.join(', ')})`);
    }
    if (acceptString && !numericFields.includes(to)) {
      throw new MappingError(`mapping ${name}: accept_string is for numbers (${numericFields.join(', ')}), not ${to}`);
    }
    sources[to].push({
      name: sourceName,
      parts: sourceName.includes('.') ? sourceName.split('.') : null,
      toMs: unitToMs(unit ?? 'ms'),
      acceptString,
    });
  }
  const readsRequestLine = sources.request.length > 0;
  const missing = requiredFields(readsRequestLine).filter((field) => sources[field].length === 0);
  if (missing.length) throw new MappingError(`mapping ${name} names no source for ${missing.join(', ')}`);
  return { kind: 'json', name, sources, readsRequestLine };
}

/** Fields a JSON message must have; method and path may come from the request line instead. */
export function requiredFields(readsRequestLine: boolean): readonly CanonicalField[] {
  return readsRequestLine ? ['timestamp', 'client_ip', 'status'] : ['timestamp', 'client_ip', 'method', 'path', 'status'];
}
