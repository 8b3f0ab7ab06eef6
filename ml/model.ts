// The model artifact: everything scoring needs, as JSON, with a schema version and the feature
// spec id. Loading validates both, so a model from an older spec or schema is refused clearly.
import { z } from 'zod';
import { ModelArtifactError } from './errors.js';
import { FEATURE_NAMES, FEATURE_SPEC_ID } from './features.js';

export const MODEL_SCHEMA_VERSION = 2;
export const MODEL_KIND = 'logstream-kmeans';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const profileSchema = z.tuple([finite.nullable(), finite]);

const clusterSchema = z.object({
  size: z.number().int().nonnegative(),
  fraction: z.number().min(0).max(1),
  /** Training distance at the calibration percentile; scores divide by it. */
  radius: z.number().positive(),
  /** Clusters too small to be normal behaviour: rows nearest to them are scored against normal clusters. */
  normal: z.boolean(),
  distancePercentiles: z.object({ p50: finite, p90: finite, p99: finite }),
  /** Per feature, the spread of the cluster's core rows around its centre (scaled units); see FEATURE_MARGIN. */
  spreads: z.array(z.number().positive()),
});

const candidateSchema = z.object({ k: z.number().int(), silhouette: finite, inertia: finite, iterations: z.number().int() });

export const modelArtifactSchema = z.object({
  schemaVersion: z.literal(MODEL_SCHEMA_VERSION),
  kind: z.literal(MODEL_KIND),
  featureSpec: z.object({ id: z.literal(FEATURE_SPEC_ID), names: z.array(z.string()), weights: z.array(finite) }),
  vocabulary: z.object({
    endpointLogFrequency: z.record(z.string(), finite),
    unseenLogFrequency: finite,
    exactProfiles: z.record(z.string(), profileSchema),
    endpointProfiles: z.record(z.string(), profileSchema),
    statusProfiles: z.record(z.string(), profileSchema),
    extensionProfiles: z.record(z.string(), profileSchema),
    globalProfile: profileSchema,
    servedPrefixes: z.array(z.string()),
    servedExtensions: z.array(z.string()),
    endpointErrorRates: z.record(z.string(), z.number().min(0).max(1)),
    otherErrorRate: z.number().min(0).max(1),
    notFoundShare: z.number().min(0).max(1),
  }),
  scaler: z.object({ mean: z.array(finite), scale: z.array(finite), clip: z.number().positive() }),
  centroids: z.array(z.array(finite)).min(1),
  clusters: z.array(clusterSchema).min(1),
  threshold: z.number().positive(),
  thresholdPercentile: z.number(),
  training: z.object({
    rows: z.number().int().positive(),
    seed: z.number().int(),
    k: z.number().int().positive(),
    candidates: z.array(candidateSchema),
    trainingSeconds: z.number().nonnegative(),
    /** Share of training rows above the threshold. */
    flaggedFraction: z.number().min(0).max(1),
    source: z.string(),
    /**
     * "site": the rows are a site's own traffic (its lakehouse, its log file); "generated": the
     * generator's synthetic shop. A pipeline on real traffic never scores with a generated model.
     */
    origin: z.enum(['generated', 'site']),
  }),
  backend: z.string(),
  createdAt: z.string(),
});

export type ModelArtifact = z.infer<typeof modelArtifactSchema>;
/** Where a model's training rows came from: the generator's synthetic shop, or the site's own traffic. */
export type TrafficOrigin = ModelArtifact['training']['origin'];
export type ClusterProfile = z.infer<typeof clusterSchema>;
export type KCandidate = z.infer<typeof candidateSchema>;

/** Validates an artifact read from a file or the registry; `source` names it in errors. */
export function parseModelArtifact(value: unknown, source: string): ModelArtifact {
  if (typeof value !== 'object' || value === null) throw new ModelArtifactError('is not a JSON object', source);
  const header = value as { schemaVersion?: unknown; kind?: unknown; featureSpec?: { id?: unknown } };
  if (header.kind !== MODEL_KIND)
    throw new ModelArtifactError(`is not a ${MODEL_KIND} model (kind ${JSON.stringify(header.kind)})`, source);
  if (header.schemaVersion !== MODEL_SCHEMA_VERSION) {
    throw new ModelArtifactError(
      `has artifact schema version ${JSON.stringify(header.schemaVersion)}, this logstream reads version ${MODEL_SCHEMA_VERSION}`,
      source,
      'retrain with `logstream train` to produce a model this version can load',
    );
  }
  if (header.featureSpec?.id !== FEATURE_SPEC_ID) {
    throw new ModelArtifactError(
      `was trained on feature spec ${JSON.stringify(header.featureSpec?.id)}, this logstream computes ${FEATURE_SPEC_ID}`,
      source,
      'retrain with `logstream train` so features and model agree',
    );
  }
  const parsed = modelArtifactSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelArtifactError(`is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`, source);
  }
  const model = parsed.data;
  const width = FEATURE_NAMES.length;
  const shapes = [
    model.featureSpec.names.length,
    model.featureSpec.weights.length,
    model.scaler.mean.length,
    model.scaler.scale.length,
    ...model.centroids.map((row) => row.length),
    ...model.clusters.map((cluster) => cluster.spreads.length),
  ];
  if (shapes.some((length) => length !== width) || model.featureSpec.names.some((name, index) => name !== FEATURE_NAMES[index])) {
    throw new ModelArtifactError(`feature list does not match spec ${FEATURE_SPEC_ID} (${width} features)`, source);
  }
  if (model.clusters.length !== model.centroids.length)
    throw new ModelArtifactError(`has ${model.centroids.length} centroids but ${model.clusters.length} cluster profiles`, source);
  if (!model.clusters.some((cluster) => cluster.normal)) throw new ModelArtifactError('has no normal cluster', source);
  return model;
}

export function serializeModel(model: ModelArtifact): string {
  return `${JSON.stringify(model, null, 1)}\n`;
}
