#!/usr/bin/env -S node --single-threaded-gc
// Entry point of the `logstream` command: runs the TypeScript sources through tsx,
// so a checkout works without a build step. The shebang's flags are cli/nodeFlags.ts's (why: there).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
