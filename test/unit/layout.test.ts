// The dependency rules of the layout (docs/architecture.md), checked on the import statements.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function importsOf(folder: string): { file: string; specifier: string }[] {
  const found: { file: string; specifier: string }[] = [];
  for (const name of readdirSync(join(ROOT, folder), { recursive: true }) as string[]) {
    if (!name.endsWith('.ts')) continue;
    const text = readFileSync(join(ROOT, folder, name), 'utf8');
    for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm))
      found.push({ file: `${folder}/${name}`, specifier: match[1]! });
  }
  return found;
}

describe('layout', () => {
  it('keeps ml/ pure computation: no generator, no outside systems, no files, no shells', () => {
    const forbidden =
      /^(?:\.\.\/(?:generator|clients|training|streamers|activities|workflows|cli)\/|node:(?:fs|net|http|https|child_process))/;
    const offenders = importsOf('ml').filter(({ specifier }) => forbidden.test(specifier));
    assert.deepEqual(offenders, []);
  });

  it('lets common/ depend on nothing of the project', () => {
    assert.deepEqual(
      importsOf('common').filter(({ specifier }) => specifier.startsWith('.')),
      [],
    );
  });

  it('keeps clients/ free of streamers, activities and the training shell', () => {
    const offenders = importsOf('clients').filter(({ specifier }) =>
      /\.\.\/(?:\.\.\/)?(?:streamers|activities|training|workflows|cli)\//.test(specifier),
    );
    assert.deepEqual(offenders, []);
  });
});
