export * from './registry.js';
export { metricsServerOptions, serveMetrics, type MetricsServerOptions } from './server.js';
export { BoundedLabelSet, statusClass, OTHER } from './labels.js';
export { prometheusReady } from './prometheus.js';
