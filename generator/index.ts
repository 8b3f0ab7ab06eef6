// Public API of the traffic generator, used by `logstream generate` and by model training.
export {
  createTrafficGenerator,
  trafficShape,
  DEFAULT_ANOMALY_RATE,
  type GeneratedLog,
  type TrafficGenerator,
  type TrafficOptions,
} from './traffic.js';
export { SCENARIO_NAMES, isScenarioName, type ScenarioName, type TrafficLabel } from './scenarios.js';
export { toJsonLine } from './jsonLine.js';
export {
  generateTrainingData,
  trainingLogs,
  trainingSegments,
  writeTrainingData,
  DEFAULT_TRAINING_RATE_PER_SECOND,
  type ProgressCallback,
  type TrainingDataOptions,
} from './trainingData.js';
