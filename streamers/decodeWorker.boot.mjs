// Starts the decode thread from the TypeScript sources (worker threads do not inherit tsx).
import { register } from 'tsx/esm/api';

register();
await import('./decodeWorker.ts');
