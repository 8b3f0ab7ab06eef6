// bin/logstream.js runs the sources as an esbuild bundle: it must behave like the sources (paths
// next to them stay right) and never run stale code after an edit.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
// @ts-expect-error: plain JavaScript (it runs before tsx could), without declarations.
import { bundledMain } from '../../bin/sourceBundle.mjs';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const currentFile = `${repository}node_modules/.cache/logstream/bundle.json`;
const bundled = bundledMain as () => Promise<string | undefined>;

describe('the source bundle', () => {
  it('is reused while no source changed, and rebuilt when one did', async () => {
    const first = await bundled();
    assert.ok(first?.endsWith('/main.js'), `no bundle was built (${first})`);
    assert.equal(await bundled(), first);
    // As if ml/score.ts had been edited since the build (its size and time recorded differ).
    const current = JSON.parse(readFileSync(currentFile, 'utf8')) as { inputs: Record<string, string> };
    assert.ok(current.inputs['ml/score.ts'], 'the scorer is one of the inputs');
    assert.ok(current.inputs['tsconfig.json'], 'compiler settings are one of the inputs');
    current.inputs['ml/score.ts'] = '0:0';
    writeFileSync(currentFile, JSON.stringify(current));
    const rebuilt = await bundled();
    assert.ok(rebuilt && rebuilt !== first, 'an edited source gets a new bundle');
    const { main } = (await import(rebuilt)) as { main: unknown };
    assert.equal(typeof main, 'function');
  });

  it('runs the command with the paths of the sources (package.json, next to cli/)', () => {
    const version = (JSON.parse(readFileSync(`${repository}package.json`, 'utf8')) as { version: string }).version;
    const printed = execFileSync(process.execPath, [`${repository}bin/logstream.js`, '--version'], { encoding: 'utf8' }).trim();
    assert.equal(printed, version);
  });
});
