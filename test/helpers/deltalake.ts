// delta-rs (the `deltalake` Python package) as the reference implementation in tests: a cached venv
// outside the repository and small Python snippets that print JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Field, Float64, Int32, Int64, Schema, TimeUnit, Timestamp, Utf8, vectorFromArray, type Table, type Vector } from 'apache-arrow';
import { tableFromColumns, timestampVectorFromMicros } from '../../clients/delta/arrowColumns.js';

const requirements = fileURLToPath(new URL('./deltalake-requirements.txt', import.meta.url));

export function deltalakeVenvDir(): string {
  const cache = process.env.LOGSTREAM_STACK_CACHE_DIR ?? join(homedir(), '.cache', 'logstream');
  return join(cache, 'deltalake-venv');
}

let python: string | undefined;

/** The venv's python, creating the venv (python3 -m venv + pip install) on first use; test files racing to create it wait on a lock. */
export function deltalakePython(): string {
  if (python) return python;
  const venv = deltalakeVenvDir();
  const candidate = join(venv, 'bin', 'python');
  const ready = () => existsSync(candidate) && spawnSync(candidate, ['-c', 'import deltalake, pyarrow'], { encoding: 'utf8' }).status === 0;
  if (!ready()) {
    mkdirSync(dirname(venv), { recursive: true });
    const script = `"${candidate}" -c 'import deltalake, pyarrow' 2>/dev/null || { python3 -m venv "${venv}" && "${candidate}" -m pip install -q -r "${requirements}"; }`;
    const install = spawnSync('flock', [`${venv}.lock`, 'sh', '-c', script], { encoding: 'utf8', timeout: 900_000 });
    if (install.status !== 0 || !ready())
      throw new Error(`cannot set up delta-rs in ${venv} (python3 -m venv + pip install deltalake): ${install.stderr?.trim()}`);
  }
  python = candidate;
  return python;
}

const prelude = `
import json, os, sys, base64, datetime, decimal
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
args = json.loads(sys.stdin.read())
def plain(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.strftime('%Y-%m-%dT%H:%M:%S') + '.%06dZ' % value.microsecond
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and isinstance(value[0], tuple) and len(value[0]) == 2:
            return {str(k): plain(v) for k, v in value}
        return [plain(v) for v in value]
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    return value
def out(value):
    sys.stdout.write(json.dumps(value))
    sys.stdout.flush()
    # delta-rs's runtime threads sometimes abort at interpreter shutdown ("terminate called without an
    # active exception"); the answer is complete here, so leave without running shutdown.
    os._exit(0)
`;

/** Runs a Python snippet with `args` (JSON on stdin) and returns what it passed to out(). */
export function runDeltalake<T>(snippet: string, args: unknown = {}): T {
  const result = spawnSync(deltalakePython(), ['-c', `${prelude}\n${snippet}`], {
    input: JSON.stringify(args),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`delta-rs snippet failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(result.stdout) as T;
}

export interface DeltaRsView {
  version: number;
  columns: string[];
  partitionColumns: string[];
  files: string[];
  rows?: Record<string, unknown>[];
  error?: string;
}

/** What delta-rs sees in a table: version, columns, partition columns, files and (unless it cannot) all rows. */
export function deltaRsView(
  path: string,
  options: { version?: number; rows?: boolean; storageOptions?: Record<string, string> } = {},
): DeltaRsView {
  return runDeltalake<DeltaRsView>(
    `
dt = DeltaTable(args['path'], version=args.get('version'), storage_options=args.get('storage'))
import os, urllib.parse
remote = '://' in args['path']
root = (args['path'] if remote else os.path.abspath(args['path'])).rstrip('/') + '/'
def relative(uri):
    path = urllib.parse.unquote(uri[len('file://'):]) if uri.startswith('file://') else urllib.parse.unquote(uri) if remote else uri
    return path[len(root):] if path.startswith(root) else path
view = {'version': dt.version(), 'columns': [f.name for f in dt.schema().fields], 'partitionColumns': dt.metadata().partition_columns}
view['files'] = sorted(relative(uri) for uri in dt.file_uris())
if args.get('rows', True):
    try:
        view['rows'] = [plain(r) for r in dt.to_pyarrow_table().to_pylist()]
    except Exception as e:
        view['error'] = str(e).split('\\n')[0]
out(view)
`,
    { path, version: options.version, rows: options.rows ?? true, storage: options.storageOptions },
  );
}

/** Appends rows (JSON objects; timestamp columns given as ISO strings in `timestampColumns`) with delta-rs. */
export function deltaRsAppend(
  path: string,
  rows: Record<string, unknown>[],
  timestampColumns: string[] = [],
  storageOptions?: Record<string, string>,
): number {
  return runDeltalake<number>(
    `
dt = DeltaTable(args['path'], storage_options=args.get('storage'))
schema = dt.schema().to_arrow() if hasattr(dt.schema(), 'to_arrow') else dt.schema().to_pyarrow()
schema = pa.schema(schema)
cols = {}
for field in schema:
    values = [r.get(field.name) for r in args['rows']]
    if field.name in args['ts']:
        values = [None if v is None else datetime.datetime.fromisoformat(v.replace('Z', '+00:00')) for v in values]
    cols[field.name] = pa.array(values, type=field.type)
write_deltalake(args['path'], pa.table(cols, schema=schema), mode='append', storage_options=args.get('storage'))
out(DeltaTable(args['path'], storage_options=args.get('storage')).version())
`,
    { path, rows, ts: timestampColumns, storage: storageOptions },
  );
}

/** Sorts JSON rows for order-independent comparison. */
export function sortRows(rows: readonly Record<string, unknown>[]): string[] {
  return rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))))).sort();
}

// ---- sample web-log rows for Delta tests ----

/** The shape of the streamer's logs table: partitioned by date and hour. */
export const logSchema = new Schema([
  new Field('timestamp', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false),
  new Field('date', new Utf8(), false),
  new Field('hour', new Int32(), false),
  new Field('client_ip', new Utf8(), true),
  new Field('method', new Utf8(), true),
  new Field('endpoint', new Utf8(), true),
  new Field('status', new Int32(), true),
  new Field('response_bytes', new Int64(), true),
  new Field('response_time_ms', new Float64(), true),
  new Field('user_agent', new Utf8(), true),
  new Field('kafka_offset', new Int64(), false),
]);

const endpoints = ['/', '/products/{id}', '/cart', '/checkout', '/search', '/api/v1/items/{id}'];
const methods = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const statuses = [200, 200, 200, 201, 301, 304, 404, 500];

/** `count` deterministic log rows starting at `startMicros`, `stepMicros` apart, offsets from `firstOffset`. */
export function makeLogTable(count: number, options: { startMicros?: bigint; stepMicros?: bigint; firstOffset?: number } = {}): Table {
  const start = options.startMicros ?? 1_735_689_600_000_000n; // 2025-01-01T00:00:00Z
  const step = options.stepMicros ?? 1_234_567n;
  const firstOffset = options.firstOffset ?? 0;
  const micros: bigint[] = [];
  const date: string[] = [];
  const hour: number[] = [];
  const ip: (string | null)[] = [];
  const method: string[] = [];
  const endpoint: string[] = [];
  const status: number[] = [];
  const bytes: bigint[] = [];
  const responseMs: (number | null)[] = [];
  const agent: (string | null)[] = [];
  const offsets: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const n = firstOffset + i;
    const t = start + BigInt(i) * step;
    micros.push(t);
    const iso = new Date(Number(t / 1000n)).toISOString();
    date.push(iso.slice(0, 10));
    hour.push(Number(iso.slice(11, 13)));
    ip.push(n % 17 === 0 ? null : `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`);
    method.push(methods[n % methods.length]!);
    endpoint.push(endpoints[(n * 7) % endpoints.length]!);
    status.push(statuses[(n * 13) % statuses.length]!);
    bytes.push(BigInt((n * 7919) % 65_536));
    responseMs.push(n % 11 === 0 ? null : ((n * 37) % 5000) / 10);
    agent.push(n % 5 === 0 ? null : `Mozilla/5.0 (test ${n % 3})`);
    offsets.push(BigInt(n));
  }
  const columns: Record<string, Vector> = {
    timestamp: timestampVectorFromMicros(micros, logSchema.fields[0]!.type as Timestamp),
    date: vectorFromArray(date, new Utf8()),
    hour: vectorFromArray(hour, new Int32()),
    client_ip: vectorFromArray(ip, new Utf8()),
    method: vectorFromArray(method, new Utf8()),
    endpoint: vectorFromArray(endpoint, new Utf8()),
    status: vectorFromArray(status, new Int32()),
    response_bytes: vectorFromArray(bytes, new Int64()),
    response_time_ms: vectorFromArray(responseMs, new Float64()),
    user_agent: vectorFromArray(agent, new Utf8()),
    kafka_offset: vectorFromArray(offsets, new Int64()),
  };
  return tableFromColumns(logSchema, columns, count);
}
