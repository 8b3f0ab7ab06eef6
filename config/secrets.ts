// Secrets in the configuration: one scheme for every secret key. A secret key holds a reference,
// `${env:NAME}` (the environment variable NAME) or `${file:PATH}` (the file's content), resolved by
// the client that needs it, so the configuration object, `config show`, logs, workflow inputs and
// child processes only ever carry the reference. The syntax is the one of the OpenTelemetry
// Collector and of Kafka's config providers. Clear text is accepted from LOGSTREAM_* variables
// (stored as a reference to that variable) and, in a file, only with secrets.allow_plaintext.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from './errors.js';

/** Keys whose value is a secret: refused in clear text in a file, redacted wherever shown. */
export const SECRET_KEYS = [
  'kafka.sasl_password',
  'elasticsearch.password',
  'elasticsearch.api_key',
  'temporal.api_key',
  'mlflow.password',
  'prometheus.metrics_password',
] as const;

/** User names: not secret, but they take the same references (a Confluent API key id is a user name). */
export const CREDENTIAL_KEYS = ['kafka.sasl_username', 'elasticsearch.username', 'mlflow.username', 'prometheus.metrics_username'] as const;

/** URL keys: a password in their user-info part is a secret too. */
export const URL_KEYS = ['elasticsearch.host', 'mlflow.tracking_uri', 'prometheus.url'] as const;

export const REDACTED = '***';

export type SecretReference = { kind: 'env'; name: string } | { kind: 'file'; path: string };

const ENV_REFERENCE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;
const FILE_REFERENCE = /^\$\{file:(.+)\}$/;

type Sections = Record<string, Record<string, unknown> | undefined>;

/** The reference a value holds, or undefined for clear text. */
export function parseSecretReference(value: string): SecretReference | undefined {
  const env = ENV_REFERENCE.exec(value);
  if (env) return { kind: 'env', name: env[1]! };
  const file = FILE_REFERENCE.exec(value);
  if (file) return { kind: 'file', path: file[1]! };
  return undefined;
}

export function envReference(name: string): string {
  return `\${env:${name}}`;
}

export function isSecretKey(path: string): boolean {
  return (SECRET_KEYS as readonly string[]).includes(path);
}

function isReferenceKey(path: string): boolean {
  return isSecretKey(path) || (CREDENTIAL_KEYS as readonly string[]).includes(path);
}

function valueAt(sections: Sections, path: string): unknown {
  const [section, key] = path.split('.') as [string, string];
  const values = sections[section];
  return typeof values === 'object' && values !== null ? values[key] : undefined;
}

function looksLikeReference(value: string): boolean {
  return value.startsWith('${');
}

/** The user-info password of a URL, if it has one (usernames alone are tokens too). */
function urlCredentials(url: string): { username: string; password: string } | undefined {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return undefined;
    return { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  } catch {
    return undefined;
  }
}

/**
 * Checks the file layer of the configuration: a secret key must hold a reference, and a URL key
 * must not carry credentials, unless the file (or LOGSTREAM_SECRETS_ALLOW_PLAINTEXT) opts in.
 * A malformed reference (`${env:}`, `${vault:x}`) is refused wherever it comes from.
 */
export function checkFileSecrets(fileLayer: Sections, file: string, allowPlaintext: boolean): void {
  for (const path of [...SECRET_KEYS, ...CREDENTIAL_KEYS]) {
    const value = valueAt(fileLayer, path);
    if (typeof value !== 'string') continue;
    checkReferenceSyntax(value, path, file);
    if (allowPlaintext || !isSecretKey(path) || parseSecretReference(value)) continue;
    throw new ConfigError(`invalid configuration in ${file}: ${path} holds a clear-text secret`, {
      file,
      key: path,
      hint: plaintextHint(path),
    });
  }
  for (const path of URL_KEYS) {
    const value = valueAt(fileLayer, path);
    if (typeof value !== 'string' || allowPlaintext) continue;
    if (!urlCredentials(value)) continue;
    const section = path.split('.')[0]!;
    throw new ConfigError(`invalid configuration in ${file}: ${path} carries credentials in the URL (${redactUrl(value)})`, {
      file,
      key: path,
      hint:
        `put the user in ${section}.username and the password in ${section}.password as "\${env:NAME}" or "\${file:PATH}", ` +
        `or give the whole URL in LOGSTREAM_${path.replace('.', '_').toUpperCase()}; to accept it in this file anyway, set "secrets": {"allow_plaintext": true}`,
    });
  }
}

/** A reference that starts like one must be one: `${env:NAME}` or `${file:PATH}`. */
export function checkReferenceSyntax(value: string, path: string, where: string): void {
  if (!looksLikeReference(value) || parseSecretReference(value)) return;
  throw new ConfigError(`invalid configuration in ${where}: ${path}: "${value}" is not a reference`, {
    key: path,
    hint: `write "\${env:NAME}" (an environment variable) or "\${file:PATH}" (a file holding only the secret)`,
  });
}

function plaintextHint(path: string): string {
  const variable = `LOGSTREAM_${path.replace('.', '_').toUpperCase()}`;
  return (
    `keep secrets out of the file: write "${path.split('.')[1]}": "\${env:NAME}" (an environment variable you name) or ` +
    `"\${file:/run/secrets/NAME}" (a file holding only the secret), or set ${variable}; ` +
    'to accept clear text in this file anyway, set "secrets": {"allow_plaintext": true}'
  );
}

/**
 * Secret keys set through LOGSTREAM_* variables are stored as a reference to that variable, so
 * the value itself never enters the configuration object.
 */
export function referenceEnvSecret(path: string, variable: string, value: unknown): unknown {
  if (!isSecretKey(path) || typeof value !== 'string' || parseSecretReference(value)) return value;
  return envReference(variable);
}

/** `${file:~/x}` and `${file:relative}` become absolute, so child processes and other folders read the same file. */
export function absoluteFileReference(value: string, cwd: string): string {
  const reference = parseSecretReference(value);
  if (reference?.kind !== 'file') return value;
  return `\${file:${absolutePath(reference.path, cwd)}}`;
}

export function absolutePath(path: string, cwd: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
  return resolve(cwd, expanded);
}

/**
 * The value a secret or user-name key stands for: the environment variable or file it refers
 * to, or the value itself when it is clear text. Undefined stays undefined.
 */
export function resolveSecret(value: string | undefined, key: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (value === undefined) return undefined;
  const reference = parseSecretReference(value);
  if (!reference) return value;
  if (reference.kind === 'env') {
    const found = env[reference.name];
    if (found === undefined || found === '') {
      throw new ConfigError(`${key} refers to environment variable ${reference.name}, which is not set`, {
        key,
        hint: `export ${reference.name} in the environment of this process, or point ${key} at a file with "\${file:PATH}"`,
      });
    }
    return found;
  }
  let text: string;
  try {
    text = readFileSync(reference.path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(`${key} refers to file ${reference.path}, which cannot be read: ${reason}`, { key, file: reference.path });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new ConfigError(`${key} refers to file ${reference.path}, which is empty`, { key, file: reference.path });
  return secret;
}

/** The URL with its password (or a lone user-info token) replaced by ***. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!parsed.username && !parsed.password) return url;
  if (parsed.password) parsed.password = REDACTED;
  else parsed.username = REDACTED;
  return withoutAddedSlash(parsed.toString(), url);
}

/** URL.toString() adds a "/" to a bare origin; keep the user's spelling. */
function withoutAddedSlash(text: string, original: string): string {
  return text.endsWith('/') && !original.endsWith('/') ? text.slice(0, -1) : text;
}

/** The URL without user info, and the credentials it carried (percent-decoded). */
export function splitUrlCredentials(url: string): { url: string; username?: string; password?: string } {
  const credentials = urlCredentials(url);
  if (!credentials) return { url };
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return {
    url: withoutAddedSlash(parsed.toString(), url),
    username: credentials.username || undefined,
    password: credentials.password || undefined,
  };
}

/**
 * A copy of the configuration for people to read: clear-text secrets become ***, passwords in
 * URLs too; references stay (they say where the secret comes from, not what it is).
 */
export function redactConfig<T extends object>(config: T): T {
  const copy = JSON.parse(JSON.stringify(config)) as Sections;
  for (const path of SECRET_KEYS) {
    const [section, key] = path.split('.') as [string, string];
    const value = copy[section]?.[key];
    if (typeof value === 'string' && !parseSecretReference(value)) copy[section]![key] = REDACTED;
  }
  for (const path of URL_KEYS) {
    const [section, key] = path.split('.') as [string, string];
    const value = copy[section]?.[key];
    if (typeof value === 'string') copy[section]![key] = redactUrl(value);
  }
  return copy as T;
}

/** Every environment variable a reference of the configuration names (child processes must keep them). */
export function referencedEnvNames(config: object): string[] {
  const names = new Set<string>();
  for (const path of [...SECRET_KEYS, ...CREDENTIAL_KEYS]) {
    const value = valueAt(config as Sections, path);
    if (typeof value !== 'string') continue;
    const reference = parseSecretReference(value);
    if (reference?.kind === 'env') names.add(reference.name);
  }
  return [...names].sort();
}

/**
 * What a child process that loads the configuration from a file needs to see the same secrets:
 * the variables references name, and URLs with credentials (which came from LOGSTREAM_* variables,
 * the file would refuse them) through those variables instead of the file.
 */
export function childProcessSecrets<T extends object>(config: T, env: NodeJS.ProcessEnv): { config: T; env: Record<string, string> } {
  const keep: Record<string, string> = {};
  for (const name of referencedEnvNames(config)) {
    const value = env[name];
    if (value !== undefined) keep[name] = value;
  }
  const copy = JSON.parse(JSON.stringify(config)) as Sections;
  for (const path of URL_KEYS) {
    const [section, key] = path.split('.') as [string, string];
    const value = copy[section]?.[key];
    const variable = `LOGSTREAM_${section.toUpperCase()}_${key.toUpperCase()}`;
    if (typeof value !== 'string' || !urlCredentials(value) || env[variable] !== value) continue;
    keep[variable] = value;
    copy[section]![key] = splitUrlCredentials(value).url;
  }
  return { config: copy as T, env: keep };
}

/** True when the key's value is a reference key per this scheme (secret or user name). */
export function takesReference(path: string): boolean {
  return isReferenceKey(path);
}
