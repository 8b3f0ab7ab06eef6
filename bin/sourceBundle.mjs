// The `logstream` command's sources as one esbuild bundle (with a chunk per lazily loaded part),
// rebuilt when a source changes. Loading ~190 TypeScript files through tsx's loader hooks costs
// about 1.1 s at every start (each import is a round trip to the hooks thread); the bundle loads in
// plain Node. A checkout still needs no build step: the first start builds it (~0.3 s) into
// node_modules/.cache, and any start after an edit builds it again.
//
// Behaviour is the sources': `import.meta.url` in each file is replaced by that file's own URL,
// so paths next to a source (package.json, infra/, bin/, the Temporal workflows) stay right, and
// packages are not bundled (Node resolves them from node_modules as before).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repository = fileURLToPath(new URL('..', import.meta.url));
const cacheFolder = join(repository, 'node_modules', '.cache', 'logstream');
const currentFile = join(cacheFolder, 'bundle.json');
const ENTRIES = { main: 'cli/main.ts', deltaWorker: 'streamers/deltaWorker.ts', decodeWorker: 'streamers/decodeWorker.ts' };
/** Files besides the bundle's inputs whose change changes the bundle (the lockfile: esbuild's version). */
const SETTINGS = ['tsconfig.json', 'package.json', 'package-lock.json', 'bin/sourceBundle.mjs'];
/** Older bundles are kept this long: a process started from one may still load its lazy chunks. */
const KEEP_OLD_BUNDLES_MS = 7 * 86_400_000;

/**
 * The URL of the bundled cli/main.ts, built now unless the last bundle is current; undefined when
 * it cannot be built (then the caller runs the sources through tsx, which reports any error).
 */
export async function bundledMain() {
  try {
    const folder = currentBundle()?.folder ?? (await buildBundle());
    return pathToFileURL(join(folder, 'main.js')).href;
  } catch {
    return undefined;
  }
}

/** The bundle bundle.json names, if every file it was built from is unchanged. */
function currentBundle() {
  if (!existsSync(currentFile)) return undefined;
  const current = JSON.parse(readFileSync(currentFile, 'utf8'));
  if (!existsSync(join(current.folder, 'main.js'))) return undefined;
  for (const [file, stamp] of Object.entries(current.inputs)) if (stampOf(file) !== stamp) return undefined;
  return current;
}

const stampOf = (file) => {
  try {
    const stat = statSync(join(repository, file));
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
};

async function buildBundle() {
  const { build } = await import('esbuild');
  mkdirSync(cacheFolder, { recursive: true });
  // A folder of its own per build: processes started concurrently each build theirs, and one
  // running from an older bundle keeps its files.
  const folder = join(cacheFolder, `bundle-${Date.now().toString(36)}-${process.pid}`);
  const result = await build({
    absWorkingDir: repository,
    entryPoints: ENTRIES,
    outdir: folder,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node}`,
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    // The writer and decode threads run their own bundles (streamers/deltaWriter.ts, streamers/decodeThread.ts).
    define: {
      LOGSTREAM_DELTA_WORKER_BUNDLE: JSON.stringify(pathToFileURL(join(folder, 'deltaWorker.js')).href),
      LOGSTREAM_DECODE_WORKER_BUNDLE: JSON.stringify(pathToFileURL(join(folder, 'decodeWorker.js')).href),
    },
    plugins: [sourceUrls],
  });
  const inputs = Object.fromEntries(
    [...Object.keys(result.metafile.inputs).filter((file) => !file.includes('node_modules')), ...SETTINGS].map((file) => [
      file,
      stampOf(file),
    ]),
  );
  const temporary = `${currentFile}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ folder, inputs }));
  renameSync(temporary, currentFile);
  removeOldBundles(folder);
  return folder;
}

/** Replaces `import.meta.url` in each source with the source's own URL (see the top of the file). */
const sourceUrls = {
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

function removeOldBundles(keep) {
  const now = Date.now();
  for (const name of readdirSync(cacheFolder)) {
    const path = join(cacheFolder, name);
    if (!name.startsWith('bundle-') || path === keep) continue;
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_BUNDLES_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
