// Every command group of `logstream`. Each file registers one group.
import type { Command } from 'commander';
import { registerConfigCommands } from './config.js';
import { registerStreamingCommands } from './stream.js';

export function registerCommands(program: Command): void {
  registerConfigCommands(program);
  registerStreamingCommands(program);
}
