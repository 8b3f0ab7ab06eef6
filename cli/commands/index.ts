// Every command group of `logstream`. Each file registers one group.
import type { Command } from 'commander';
import { registerConfigCommands } from './config.js';
import { registerStackCommands } from './stack.js';
import { registerStreamingCommands } from './stream.js';
import { registerTableCommands } from './table.js';

export function registerCommands(program: Command): void {
  registerConfigCommands(program);
  registerStackCommands(program);
  registerStreamingCommands(program);
  registerTableCommands(program);
}
