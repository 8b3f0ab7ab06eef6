// Finds, reads, merges and validates the configuration.
// Order: defaults < file (--config, else LOGSTREAM_CONFIG, else ./pipeline_config.json) < LOGSTREAM_* variables.
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { configSchema, configSections, keySchema, type ConfigSection, type PipelineConfig } from './schema.js';

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
  return { config: expandPaths(parsed.data), file, explicitKeys };
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
    values[section] ??= {};
    values[section][key] = coerceEnvValue(text, schema);
    sources.set(`${section}.${key}`, name);
  }
  return { values, sources };
}

function coerceEnvValue(text: string, schema: z.ZodType): unknown {
  const type = baseType(schema);
  if (type === 'number') return text.trim() === '' ? text : Number.isNaN(Number(text)) ? text : Number(text);
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
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
  const envName = envSources.get(path);
  const where = envName ? `environment variable ${envName}` : file ? `${file}` : 'defaults';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return new ConfigError(`invalid configuration in ${where}: ${path}: ${message}${more}`, { file, key: path });
}

function knownKeys(path: string[]): string[] {
  if (path.length === 0) return [...configSections];
  const sectionSchema = configSchema.shape[path[0] as ConfigSection]?.unwrap() as z.ZodObject | undefined;
  return sectionSchema ? Object.keys(sectionSchema.shape) : [];
}

function expandPaths(config: PipelineConfig): PipelineConfig {
  const expand = (path: string) => (path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path);
  return {
    ...config,
    // A URL root (s3://bucket/prefix) is not a folder: resolve() would turn it into ./s3:/bucket/prefix.
    delta: {
      ...config.delta,
      root: /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(config.delta.root) ? config.delta.root : resolve(expand(config.delta.root)),
    },
    s3: {
      ...config.s3,
      ...(config.s3.secret_access_key_file ? { secret_access_key_file: resolve(expand(config.s3.secret_access_key_file)) } : {}),
    },
    stack: { ...config.stack, cache_dir: resolve(expand(config.stack.cache_dir)), state_dir: resolve(expand(config.stack.state_dir)) },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
