// bench/peer/cpuProfile.ts sorts a streamer's profile into pipeline stages by source file; the
// streamer runs as an esbuild bundle, so its frames must be mapped back to the sources first.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error: plain JavaScript (it runs before tsx could), without declarations.
import { bundledMain } from '../../bin/sourceBundle.mjs';
import { originalFrame, summarise } from '../../bench/peer/cpuProfile.js';

const repository = fileURLToPath(new URL('../..', import.meta.url));

/** The 0-based line and column where `text` starts in `file`. */
function positionOf(file: string, text: string): { lineNumber: number; columnNumber: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const lineNumber = lines.findIndex((line) => line.includes(text));
  assert.ok(lineNumber >= 0, `${text} is in ${file}`);
  return { lineNumber, columnNumber: lines[lineNumber]!.indexOf(text) };
}

describe('CPU profile summary', () => {
  it('maps a frame in the bundle to its source file and line, and sorts it into that stage', async () => {
    const main = (await (bundledMain as () => Promise<string | undefined>)())!;
    const frame = { functionName: 'buildProgram', url: main, ...positionOf(fileURLToPath(main), 'function buildProgram') };
    const original = originalFrame(frame);
    assert.equal(original.url, pathToFileURL(`${repository}cli/main.ts`).href);
    assert.equal(original.lineNumber, positionOf(`${repository}cli/main.ts`, 'function buildProgram').lineNumber);

    // The decoder lies in one of the bundle's lazily loaded chunks.
    const folder = dirname(fileURLToPath(main));
    const chunk = readdirSync(folder).find(
      (name) => name.endsWith('.js') && readFileSync(join(folder, name), 'utf8').includes('function decodeLine('),
    );
    assert.ok(chunk, `no file of the bundle in ${folder} holds decodeLine`);
    const decoder = {
      functionName: 'decodeLine',
      url: pathToFileURL(join(folder, chunk)).href,
      ...positionOf(join(folder, chunk), 'function decodeLine('),
    };
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 }, children: [2, 4] },
        { id: 2, callFrame: decoder, children: [3] },
        { id: 3, callFrame: { functionName: 'parse', url: '', lineNumber: -1, columnNumber: -1 } },
        { id: 4, callFrame: { functionName: 'unknownNative', url: '', lineNumber: -1, columnNumber: -1 } },
      ],
      samples: [3, 3, 4],
      timeDeltas: [1000, 1000, 1000],
      startTime: 0,
      endTime: 3000,
    };
    const stages = Object.fromEntries(summarise(profile).stages.map((row) => [row.stage, row.ms]));
    // JSON.parse called from the decoder counts for the decoder; a native frame under the root
    // alone is not "native, no JS caller" attributed from above, it is unclassified.
    assert.deepEqual(stages, { 'JSON decode/validate': 2, 'other (node internals, libraries)': 1 });
  });
});
