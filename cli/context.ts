// What every command gets before it runs: the validated configuration and output helpers.
import type { Command } from 'commander';
import { loadConfig, type LoadedConfig } from '../config/load.js';

export interface GlobalOptions {
  config?: string;
  debug?: boolean;
}

let loaded: LoadedConfig | undefined;

/** Loads and validates the configuration once, from --config, LOGSTREAM_CONFIG or ./pipeline_config.json. */
export function prepareContext(command: Command): LoadedConfig {
  const options = command.optsWithGlobals<GlobalOptions>();
  loaded = loadConfig({ configFile: options.config });
  return loaded;
}

/** The configuration loaded for this invocation (commands run after prepareContext). */
export function context(): LoadedConfig {
  if (!loaded) throw new Error('configuration not loaded: prepareContext runs in the preAction hook');
  return loaded;
}

/** True when stdout is an interactive terminal, where progress lines are shown. */
export const isInteractive = (): boolean => Boolean(process.stdout.isTTY);
