// Starts the Delta writer thread from the TypeScript sources (worker threads do not inherit tsx).
import { register } from 'tsx/esm/api';

register();
await import('./deltaWorker.ts');
