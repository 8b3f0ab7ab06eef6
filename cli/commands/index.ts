// Every command group of `logstream`. Each file registers one group.
import type { Command } from 'commander';
import { registerOrchestrationCommands } from './pipeline.js';
import { registerConfigCommands } from './config.js';
import { registerStackCommands } from './stack.js';
import { registerStreamingCommands } from './stream.js';
import { registerAnalyticsCommands } from './analytics.js';
import { registerTableCommands } from './table.js';
import { registerModelCommands } from './train.js';

export function registerCommands(program: Command): void {
  registerConfigCommands(program);
  registerStackCommands(program);
  registerStreamingCommands(program);
  registerAnalyticsCommands(program);
  registerTableCommands(program);
  registerOrchestrationCommands(program);
  registerModelCommands(program);
}
