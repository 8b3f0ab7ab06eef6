// Chooses the TensorFlow.js backend once per process: tfjs-node when its native library loads,
// else WASM (the .wasm binaries ship inside the npm package and load from node_modules), else CPU.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export interface BackendChoice {
  name: BackendName;
  /** Why the faster backends were skipped, one line each; empty when the first choice loaded. */
  skipped: string[];
}

let choice: Promise<BackendChoice> | undefined;
let chosen: BackendChoice | undefined;

/** Selects and initialises the backend; later calls return the same choice. */
export function initBackend(preference: BackendPreference = backendPreferenceFromEnv()): Promise<BackendChoice> {
  choice ??= selectBackend(preference).then((result) => {
    chosen = result;
    return result;
  });
  return choice;
}

/** The backend in use, or undefined before initBackend finished. */
export function activeBackend(): BackendName | undefined {
  return chosen?.name;
}

export function backendChoice(): BackendChoice | undefined {
  return chosen;
}

/**
 * TFJS_BACKEND=wasm|cpu|tensorflow forces a backend for benchmarks and debugging. It is not a
 * LOGSTREAM_* name because those are configuration keys and the loader rejects unknown ones.
 */
function backendPreferenceFromEnv(): BackendPreference {
  const value = process.env.TFJS_BACKEND;
  return value === 'tensorflow' || value === 'wasm' || value === 'cpu' ? value : 'auto';
}

async function selectBackend(preference: BackendPreference): Promise<BackendChoice> {
  // Production mode silences tfjs' console advice ("install our node backend") and debug checks.
  tf.enableProdMode();
  const skipped: string[] = [];
  const attempts: BackendName[] = preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [preference, 'cpu'];
  for (const name of attempts) {
    try {
      if (name === 'tensorflow') await loadNativeBackend();
      if (name === 'wasm') setWasmPaths(wasmDirectory());
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, skipped };
      }
      skipped.push(`${name}: backend did not initialise`);
    } catch (error) {
      skipped.push(`${name}: ${firstLine(error)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be initialised (${skipped.join('; ')})`);
}

/**
 * tfjs-node registers the "tensorflow" backend on import. It is not a dependency: its install script
 * downloads libtensorflow from storage.googleapis.com, which closed networks cannot reach. When a
 * user installs it, it is used; otherwise the import fails at once with "module not found".
 */
async function loadNativeBackend(): Promise<void> {
  const moduleName = '@tensorflow/tfjs-node';
  await import(moduleName);
}

/** Folder holding tfjs-backend-wasm*.wasm, as a file path with a trailing slash (no network fetch). */
function wasmDirectory(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n', 1)[0]!.slice(0, 200);
}

export { tf };
