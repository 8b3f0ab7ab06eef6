export * from './registry.js';
export { serveMetrics } from './server.js';
export { BoundedLabelSet, statusClass, OTHER } from './labels.js';
