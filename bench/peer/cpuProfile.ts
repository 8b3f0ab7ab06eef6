// Where a `node --cpu-prof` profile of the streamer spends its time, by pipeline stage.
//   npx tsx bench/peer/cpuProfile.ts FILE.cpuprofile [--top 25] [--json]
// Each sample goes to the stage of the nearest frame (itself first, then its callers) that belongs
// to a stage, so a builtin or node:internal frame counts for whoever called it (Buffer#toString in
// the decoder is decoding, in kafkajs it is the consumer). The profiler samples wall-clock ticks:
// on a machine whose cores are shared, a thread waiting for a core still counts as busy, so read
// the shares, not the seconds, and compare the seconds with the process's CPU time from /proc.
// `logstream` runs an esbuild bundle of the sources (bin/sourceBundle.mjs): frames in it are mapped
// back to their source file and line through the bundle's source maps before they are sorted.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based, as the profiler writes them. */
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Ordered: the first rule that matches a frame's URL names its stage. */
const STAGES: [stage: string, matches: RegExp][] = [
  ['kafkajs fetch/decode', /node_modules\/kafkajs\//],
  ['Parquet encode (parquet-wasm)', /node_modules\/parquet-wasm\/|^wasm:\/\/|clients\/delta\/parquet\.ts/],
  ['Arrow building', /node_modules\/apache-arrow\/|streamers\/arrowColumns\.ts|streamers\/tables\.ts|clients\/delta\/arrowColumns\.ts/],
  ['features/scoring', /node_modules\/@tensorflow\/|\/ml\//],
  ['JSON decode/validate', /\/logs\/(decode|jsonLine|validate|combined|pathTemplate|reasons)\.ts/],
  ['per-minute metrics', /streamers\/aggregate\.ts/],
  ['Delta stats/partitions', /clients\/delta\/(stats|partitions|writer)\.ts/],
  ['Delta commit/log', /clients\/delta\//],
  ['alerts/DLQ produce', /clients\/kafka\/index\.ts/],
  ['writer hand-off', /streamers\/(deltaWriter|deltaWorker|deltaSinks|orderedCommit)\.ts/],
  ['streamer batching', /streamers\//],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['log generator', /\/generator\//],
];

const META: Record<string, string> = {
  '(garbage collector)': 'GC',
  '(idle)': 'idle',
  '(program)': 'V8/native (program)',
  '(root)': 'native, no JS caller (I/O callbacks, messages)',
};

/** A sample's stage from one frame of its stack; the profiler's own entries count only as the sample itself. */
function stageOfFrame(frame: CallFrame, isSample: boolean): string | undefined {
  const meta = META[frame.functionName];
  if (meta && frame.url === '') return isSample ? meta : undefined;
  for (const [stage, matches] of STAGES) if (matches.test(frame.url)) return stage;
  return undefined;
}

export interface ProfileSummary {
  totalMs: number;
  stages: { stage: string; ms: number; share: number }[];
  top: { function: string; stage: string; selfMs: number; share: number }[];
}

/** The maps of the bundle files a profile names, read once each; null where a file has none. */
type SourceMaps = Map<string, { map: SourceMap; mapUrl: string } | null>;

function sourceMapOf(url: string, maps: SourceMaps): { map: SourceMap; mapUrl: string } | null {
  if (!maps.has(url)) {
    let found: { map: SourceMap; mapUrl: string } | null = null;
    if (url.startsWith('file://') && url.endsWith('.js')) {
      const mapFile = `${fileURLToPath(url)}.map`;
      // A bundle older than a week is removed (bin/sourceBundle.mjs): then the frames stay as they are.
      if (existsSync(mapFile)) found = { map: new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))), mapUrl: `${url}.map` };
    }
    maps.set(url, found);
  }
  return maps.get(url)!;
}

/** The frame's source file and line when it lies in a bundle with a source map, else the frame. */
export function originalFrame(frame: CallFrame, maps: SourceMaps = new Map()): CallFrame {
  const bundle = frame.url ? sourceMapOf(frame.url, maps) : null;
  if (!bundle) return frame;
  const entry = bundle.map.findEntry(frame.lineNumber, frame.columnNumber);
  if (!('originalSource' in entry)) return frame;
  return {
    functionName: frame.functionName,
    url: new URL(entry.originalSource, bundle.mapUrl).href,
    lineNumber: entry.originalLine,
    columnNumber: entry.originalColumn,
  };
}

export function summarise(profile: CpuProfile, top = 25): ProfileSummary {
  const maps: SourceMaps = new Map();
  const byId = new Map(profile.nodes.map((node) => [node.id, { ...node, callFrame: originalFrame(node.callFrame, maps) }]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stageCache = new Map<number, string>();
  const stageOf = (id: number): string => {
    const cached = stageCache.get(id);
    if (cached) return cached;
    let stage: string | undefined;
    for (let current: number | undefined = id; current !== undefined && !stage; current = parent.get(current))
      stage = stageOfFrame(byId.get(current)!.callFrame, current === id);
    const result = stage ?? 'other (node internals, libraries)';
    stageCache.set(id, result);
    return result;
  };
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const stages = new Map<string, number>();
  const functions = new Map<string, { stage: string; micros: number }>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id)!;
    const stage = stageOf(id);
    total += micros;
    stages.set(stage, (stages.get(stage) ?? 0) + micros);
    const { functionName, url, lineNumber } = node.callFrame;
    const key = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    const entry = functions.get(key) ?? { stage, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  const share = (micros: number) => micros / Math.max(1, total);
  return {
    totalMs: total / 1000,
    stages: [...stages]
      .sort((left, right) => right[1] - left[1])
      .map(([stage, micros]) => ({ stage, ms: micros / 1000, share: share(micros) })),
    top: [...functions]
      .sort((left, right) => right[1].micros - left[1].micros)
      .slice(0, top)
      .map(([name, entry]) => ({ function: name, stage: entry.stage, selfMs: entry.micros / 1000, share: share(entry.micros) })),
  };
}

function shortUrl(url: string): string {
  if (!url) return '';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const repository = /\/(streamers|clients|ml|logs|cli|config|generator|bin)\/.*$/.exec(url);
  return repository ? repository[0].slice(1) : url.replace(/^file:\/\//, '');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } },
  });
  for (const file of positionals) {
    const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(values.top));
    if (values.json) {
      console.log(JSON.stringify({ file, ...summary }));
      continue;
    }
    const busy = summary.stages.filter((row) => row.stage !== 'idle').reduce((sum, row) => sum + row.ms, 0);
    console.log(`${file}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${(busy / 1000).toFixed(1)} s busy`);
    console.log('  stage                                   self s   % of all  % of busy');
    for (const row of summary.stages)
      console.log(
        `  ${row.stage.padEnd(38)}${(row.ms / 1000).toFixed(2).padStart(8)}${(row.share * 100).toFixed(1).padStart(10)}${row.stage === 'idle' ? ''.padStart(11) : ((row.ms / busy) * 100).toFixed(1).padStart(11)}`,
      );
    console.log('  top functions by self time');
    for (const row of summary.top)
      console.log(
        `  ${(row.selfMs / 1000).toFixed(2).padStart(7)} s ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.function}  [${row.stage}]`,
      );
  }
}
