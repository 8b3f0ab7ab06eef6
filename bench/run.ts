// `npm run bench -- <name>` runs bench/<name>.ts, with the V8 flags `logstream` runs with (cli/nodeFlags.ts: package.json
// cannot import it), so in-process figures such as bench scoring's are the streamer's. Benchmarks print their own figures and never fail a build.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
const available = readdirSync(fileURLToPath(new URL('.', import.meta.url)))
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (one of: ${available.join(', ') || 'none yet'})`);
  process.exit(name ? 2 : 0);
}
process.argv.splice(2, 1);
await import(new URL(`./${name}.ts`, import.meta.url).href);
