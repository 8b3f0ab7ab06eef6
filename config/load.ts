// Finds, reads, merges and validates the configuration.
// Order: defaults < file (--config, else LOGSTREAM_CONFIG, else ./pipeline_config.json) < LOGSTREAM_* variables.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { configSchema, configSections, keySchema, type ConfigSection, type PipelineConfig } from './schema.js';
import {
  absoluteFileReference,
  absolutePath,
  checkFileSecrets,
  checkReferenceSyntax,
  referenceEnvSecret,
  takesReference,
} from './secrets.js';

export const DEFAULT_CONFIG_FILE = 'pipeline_config.json';
const ENV_PREFIX = 'LOGSTREAM_';
/** LOGSTREAM_* variables that are not configuration keys. */
const NON_CONFIG_ENV = new Set(['LOGSTREAM_CONFIG', 'LOGSTREAM_LOG_LEVEL', 'LOGSTREAM_DEBUG']);

export interface LoadedConfig {
  config: PipelineConfig;
  /** The file the configuration came from, or undefined when only defaults and the environment apply. */
  file?: string;
  /** "section.key" for every key the user set in the file or the environment (not defaults). */
  explicitKeys: ReadonlySet<string>;
}

export interface LoadOptions {
  /** Value of --config, if given. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

type RawConfig = Record<string, Record<string, unknown>>;

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = resolveConfigFile(options.configFile, env, cwd);
  const fromFile = file ? readConfigFile(file) : {};
  if (file)
    checkFileSecrets(fromFile, file, fromFile.secrets?.allow_plaintext === true || env.LOGSTREAM_SECRETS_ALLOW_PLAINTEXT === 'true');
  const { values: fromEnv, sources: envSources } = readEnvOverrides(env);

  const merged: RawConfig = {};
  const explicitKeys = new Set<string>();
  for (const layer of [fromFile, fromEnv]) {
    for (const [section, value] of Object.entries(layer)) {
      if (!isPlainObject(value)) {
        merged[section] = value as Record<string, unknown>; // validation reports the wrong type
        continue;
      }
      merged[section] = { ...(isPlainObject(merged[section]) ? merged[section] : {}), ...value };
      for (const key of Object.keys(value)) explicitKeys.add(`${section}.${key}`);
    }
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw toConfigError(parsed.error, file, envSources);
  const config = expandPaths(parsed.data, cwd);
  checkCombinations(config, (key) => (envSources.has(key) ? `environment variable ${envSources.get(key)}` : (file ?? 'defaults')));
  return { config, file, explicitKeys };
}

/** --config FILE, else LOGSTREAM_CONFIG, else ./pipeline_config.json when present. */
export function resolveConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (flag) return resolve(cwd, flag);
  if (env.LOGSTREAM_CONFIG) return resolve(cwd, env.LOGSTREAM_CONFIG);
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

function readConfigFile(file: string): RawConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError(`cannot read configuration file ${file}: ${reason}`, { file, cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(error as Error).message}`, { file, cause: error });
  }
  if (!isPlainObject(value)) throw new ConfigError(`configuration file ${file} must hold a JSON object`, { file });
  return value as RawConfig;
}

/** LOGSTREAM_<SECTION>_<KEY>=value, e.g. LOGSTREAM_KAFKA_SERVERS=broker:9092 or LOGSTREAM_ML_TRAINING_SAMPLES=5000. */
function readEnvOverrides(env: NodeJS.ProcessEnv): { values: RawConfig; sources: Map<string, string> } {
  const values: RawConfig = {};
  const sources = new Map<string, string>();
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || NON_CONFIG_ENV.has(name) || text === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length).toLowerCase();
    const section = configSections.find((candidate) => rest.startsWith(`${candidate}_`));
    const key = section ? rest.slice(section.length + 1) : undefined;
    const schema = section && key ? keySchema(section, key) : undefined;
    if (!section || !key || !schema) {
      throw new ConfigError(`unknown configuration variable ${name}`, {
        key: name,
        hint: `variables are LOGSTREAM_<SECTION>_<KEY> with a section of ${configSections.join(', ')}`,
      });
    }
    const path = `${section}.${key}`;
    if (takesReference(path)) checkReferenceSyntax(text, path, `environment variable ${name}`);
    values[section] ??= {};
    values[section][key] = referenceEnvSecret(path, name, coerceEnvValue(text, schema));
    sources.set(path, name);
  }
  return { values, sources };
}

function coerceEnvValue(text: string, schema: z.ZodType): unknown {
  const type = baseType(schema);
  if (type === 'number') return text.trim() === '' ? text : Number.isNaN(Number(text)) ? text : Number(text);
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  // Lists as "a,b,c" (LOGSTREAM_DECODE_USE=nginx_json,combined); objects as JSON.
  if (type === 'array') return text.trim().startsWith('[') ? parseJsonOr(text) : text.split(',').map((item) => item.trim());
  if (type === 'record' || type === 'object') return parseJsonOr(text);
  return text;
}

function parseJsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // validation reports the wrong type
  }
}

function baseType(schema: z.ZodType): string {
  let current = schema as unknown as { def: { type: string; innerType?: unknown } };
  while (current.def.innerType && ['default', 'prefault', 'optional', 'nullable'].includes(current.def.type)) {
    current = current.def.innerType as typeof current;
  }
  return current.def.type;
}

function toConfigError(error: z.ZodError, file: string | undefined, envSources: Map<string, string>): ConfigError {
  const issue = error.issues[0]!;
  let path = issue.path.join('.');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    path = [...issue.path, keys[0]].join('.');
    const parent = issue.path.length ? `section "${issue.path.join('.')}"` : 'the top level';
    message = `unknown key (${parent} takes ${knownKeys(issue.path as string[]).join(', ')})`;
  }
  // An issue deep inside a key (decode.use.0) comes from the variable that set the key.
  const envName = envSources.get(path) ?? envSources.get(issue.path.slice(0, 2).join('.'));
  const where = envName ? `environment variable ${envName}` : file ? `${file}` : 'defaults';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new ConfigError(`invalid configuration in ${where}: ${path}: ${message}${more}`, { file, key: path });
}

function knownKeys(path: string[]): string[] {
  if (path.length === 0) return [...configSections];
  const sectionSchema = configSchema.shape[path[0] as ConfigSection]?.unwrap() as z.ZodObject | undefined;
  return sectionSchema ? Object.keys(sectionSchema.shape) : [];
}

function expandPaths(config: PipelineConfig, cwd: string): PipelineConfig {
  const expand = (path: string) => (path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path);
  const file = (path: string | undefined) => (path === undefined ? undefined : absolutePath(path, cwd));
  const secret = (value: string | undefined) => (value === undefined ? undefined : absoluteFileReference(value, cwd));
  return {
    ...config,
    kafka: {
      ...config.kafka,
      sasl_username: secret(config.kafka.sasl_username),
      sasl_password: secret(config.kafka.sasl_password),
      tls_ca_file: file(config.kafka.tls_ca_file),
      tls_cert_file: file(config.kafka.tls_cert_file),
      tls_key_file: file(config.kafka.tls_key_file),
    },
    elasticsearch: {
      ...config.elasticsearch,
      username: secret(config.elasticsearch.username),
      password: secret(config.elasticsearch.password),
      api_key: secret(config.elasticsearch.api_key),
      tls_ca_file: file(config.elasticsearch.tls_ca_file),
    },
    temporal: {
      ...config.temporal,
      api_key: secret(config.temporal.api_key),
      tls_ca_file: file(config.temporal.tls_ca_file),
      tls_cert_file: file(config.temporal.tls_cert_file),
      tls_key_file: file(config.temporal.tls_key_file),
    },
    mlflow: {
      ...config.mlflow,
      username: secret(config.mlflow.username),
      password: secret(config.mlflow.password),
      tls_ca_file: file(config.mlflow.tls_ca_file),
    },
    prometheus: {
      ...config.prometheus,
      metrics_username: secret(config.prometheus.metrics_username),
      metrics_password: secret(config.prometheus.metrics_password),
      metrics_tls_cert_file: file(config.prometheus.metrics_tls_cert_file),
      metrics_tls_key_file: file(config.prometheus.metrics_tls_key_file),
    },
    // A URL root (s3://bucket/prefix) is not a folder: resolve() would turn it into ./s3:/bucket/prefix.
    delta: {
      ...config.delta,
      root: /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(config.delta.root) ? config.delta.root : resolve(cwd, expand(config.delta.root)),
    },
    s3: {
      ...config.s3,
      ...(config.s3.secret_access_key_file ? { secret_access_key_file: resolve(cwd, expand(config.s3.secret_access_key_file)) } : {}),
    },
    stack: {
      ...config.stack,
      cache_dir: resolve(cwd, expand(config.stack.cache_dir)),
      state_dir: resolve(cwd, expand(config.stack.state_dir)),
    },
  };
}

/** Keys that only make sense together (or never together); `where` names the file or variable of a key. */
function checkCombinations(config: PipelineConfig, where: (key: string) => string): void {
  const refuse = (key: string, message: string, hint?: string): never => {
    throw new ConfigError(`invalid configuration in ${where(key)}: ${key}: ${message}`, { key, hint });
  };
  const pair = (section: string, first: string, second: string, values: Record<string, unknown>) => {
    if ((values[first] === undefined) !== (values[second] === undefined)) {
      const [set, missing] = values[first] === undefined ? [second, first] : [first, second];
      refuse(`${section}.${set}`, `needs ${section}.${missing} as well`);
    }
  };
  const { kafka, elasticsearch, temporal, mlflow, prometheus } = config;
  const sasl = kafka.security_protocol.startsWith('SASL_');
  const tls = kafka.security_protocol.endsWith('SSL');
  if (sasl) {
    for (const key of ['sasl_mechanism', 'sasl_username', 'sasl_password'] as const) {
      if (kafka[key] === undefined) refuse(`kafka.${key}`, `is required with kafka.security_protocol ${kafka.security_protocol}`);
    }
  } else {
    for (const key of ['sasl_mechanism', 'sasl_username', 'sasl_password'] as const) {
      if (kafka[key] !== undefined)
        refuse(`kafka.${key}`, `has no effect with kafka.security_protocol ${kafka.security_protocol}`, 'use SASL_SSL (or SASL_PLAINTEXT)');
    }
  }
  if (!tls) {
    for (const key of ['tls_ca_file', 'tls_cert_file', 'tls_key_file'] as const) {
      if (kafka[key] !== undefined)
        refuse(`kafka.${key}`, `has no effect with kafka.security_protocol ${kafka.security_protocol}`, 'use SSL or SASL_SSL');
    }
  }
  pair('kafka', 'tls_cert_file', 'tls_key_file', kafka);
  if (elasticsearch.api_key !== undefined) {
    if (elasticsearch.username !== undefined || elasticsearch.password !== undefined)
      refuse('elasticsearch.api_key', 'is an alternative to elasticsearch.username and password: set one or the other');
    if (elasticsearch.kind !== 'elasticsearch')
      refuse(
        'elasticsearch.api_key',
        'works only with elasticsearch.kind "elasticsearch" (OpenSearch has no API keys): use username and password',
      );
  }
  pair('elasticsearch', 'username', 'password', elasticsearch);
  if ((elasticsearch.tls_ca_file !== undefined || !elasticsearch.tls_verify) && !elasticsearch.host.startsWith('https:'))
    refuse(
      elasticsearch.tls_ca_file !== undefined ? 'elasticsearch.tls_ca_file' : 'elasticsearch.tls_verify',
      'needs an https:// elasticsearch.host',
    );
  pair('temporal', 'tls_cert_file', 'tls_key_file', temporal);
  if (temporal.tls === false) {
    for (const key of ['tls_ca_file', 'tls_cert_file', 'tls_key_file', 'tls_server_name'] as const) {
      if (temporal[key] !== undefined) refuse(`temporal.${key}`, 'has no effect with temporal.tls false');
    }
  }
  pair('mlflow', 'username', 'password', mlflow);
  if (mlflow.tls_ca_file !== undefined && !mlflow.tracking_uri.startsWith('https:'))
    refuse('mlflow.tls_ca_file', 'needs an https:// mlflow.tracking_uri');
  pair('prometheus', 'metrics_username', 'metrics_password', prometheus);
  pair('prometheus', 'metrics_tls_cert_file', 'metrics_tls_key_file', prometheus);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
