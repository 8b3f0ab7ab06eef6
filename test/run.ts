// Runs the test suite with Node's built-in test runner.
// `npm test` runs unit and integration tests; `npm test -- unit` only the unit tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const selected = suites.length ? suites : ['unit', 'integration'];

function testFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = selected.flatMap((suite) => testFiles(join(root, 'test', suite)));
if (files.length === 0) {
  console.error(`no test files under test/${selected.join(', test/')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files.map((file) => relative(root, file))],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
