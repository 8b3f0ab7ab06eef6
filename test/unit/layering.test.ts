// The folders depend one way: the stack (infra/) does not know the command line, and workflows
// own the activity contracts (workflows/interfaces.ts) instead of importing them from activities/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(folder: string): string[] {
  return readdirSync(join(root, folder)).flatMap((name) => {
    const path = join(root, folder, name);
    if (statSync(path).isDirectory()) return sources(relative(root, path));
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Files of `folder` with an import whose module path goes into `forbidden`/. */
function importersOf(folder: string, forbidden: string): string[] {
  const pattern = new RegExp(`from '(?:\\.\\./)+${forbidden}/`);
  return sources(folder)
    .filter((file) => pattern.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
}

describe('dependency direction', () => {
  it('infra/ imports nothing from cli/', () => {
    assert.deepEqual(importersOf('infra', 'cli'), []);
  });

  it('workflows/ imports nothing from activities/; activities implement workflows/interfaces.ts', () => {
    assert.deepEqual(importersOf('workflows', 'activities'), []);
    for (const name of ['pipeline', 'health', 'training', 'maintenance']) {
      assert.match(readFileSync(join(root, 'activities', `${name}.ts`), 'utf8'), /from '\.\.\/workflows\/interfaces\.js'/, name);
    }
  });

  it('workflow files import the activity contracts with import type only', () => {
    for (const file of sources('workflows')) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (/from '\.\/interfaces\.js'/.test(line)) assert.match(line, /^import type /, relative(root, file));
      }
    }
  });
});
