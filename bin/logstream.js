#!/usr/bin/env -S node --single-threaded-gc
// Entry point of the `logstream` command: runs the TypeScript sources bundled by esbuild
// (bin/sourceBundle.mjs, rebuilt when they change), or through tsx when no bundle can be built,
// so a checkout works without a build step. The shebang's flags are cli/nodeFlags.ts's (why: there).
import { bundledMain } from './sourceBundle.mjs';

const bundle = await bundledMain();
let main;
if (bundle) {
  // Stack traces name the .ts sources, as they do under tsx.
  process.setSourceMapsEnabled(true);
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
