// The lazy command table must list exactly the commands each group's module registers, or a
// command would be unreachable (or load the wrong module).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandGroups, commandName } from '../../cli/commands/index.js';

describe('logstream command groups', () => {
  it('list exactly the top-level commands their modules register', async () => {
    const seen = new Set<string>();
    for (const group of commandGroups) {
      const program = new Command('logstream');
      (await group.load())(program);
      const registered = program.commands.map((command) => command.name()).sort();
      assert.deepEqual(registered, [...group.commands].sort());
      for (const name of registered) {
        assert.ok(!seen.has(name), `${name} is registered by two groups`);
        seen.add(name);
      }
    }
  });

  it('find the command name past global options and their values', () => {
    assert.equal(commandName(['--config', 'stack', 'table', 'info']), 'table');
    assert.equal(commandName(['-c', 'x.json', '--debug', 'stack', 'up']), 'stack');
    assert.equal(commandName(['help', 'train']), 'train');
    assert.equal(commandName(['--help']), undefined);
    assert.equal(commandName([]), undefined);
  });

  it('give every command and subcommand a description for --help', async () => {
    const program = new Command('logstream');
    for (const group of commandGroups) (await group.load())(program);
    const check = (command: Command, path: string) => {
      for (const child of command.commands) {
        assert.ok(child.description().length > 0, `${path} ${child.name()} has no description`);
        check(child, `${path} ${child.name()}`);
      }
    };
    check(program, 'logstream');
  });

  it('print the package version for --version and exit 0', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const printed = execFileSync(process.execPath, [fileURLToPath(new URL('../../bin/logstream.js', import.meta.url)), '--version'], {
      encoding: 'utf8',
    });
    assert.equal(printed.trim(), version);
  });
});
