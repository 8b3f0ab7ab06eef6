// `logstream stream`, `generate` and `replay`: the commands of the streaming data path.
import type { Command } from 'commander';
import { registerGenerateCommand } from './generate.js';
import { registerReplayCommand } from './replay.js';

export function registerStreamingCommands(program: Command): void {
  registerGenerateCommand(program);
  registerReplayCommand(program);
}
