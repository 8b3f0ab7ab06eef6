// Scaling fitted on training features: "standardised" ones (x - mean) / std * weight, "fixed"
// ones (x - mean) * weight, clipped. Standardised features constant in training are ignored (scale 0).

export interface Scaler {
  mean: number[];
  /** Multiplier per feature: weight / std, or 0 for a feature that never varied in training. */
  scale: number[];
  /** Standardised values are clipped to ±clip so one wild feature cannot hide all others. */
  clip: number;
}

export const DEFAULT_CLIP = 20;
/** Below this standard deviation a feature counts as constant. */
const MIN_STD = 1e-6;
/** A continuous feature that barely varies would turn rounding noise into huge z values. */
const STD_FLOOR = 0.03;

export function fitScaler(
  rows: Float32Array,
  featureCount: number,
  weights: readonly number[],
  kinds: readonly ('standardised' | 'fixed')[],
  clip = DEFAULT_CLIP,
): Scaler {
  const count = rows.length / featureCount;
  const sums = new Float64Array(featureCount);
  const squares = new Float64Array(featureCount);
  for (let row = 0; row < count; row += 1) {
    const offset = row * featureCount;
    for (let feature = 0; feature < featureCount; feature += 1) {
      const value = rows[offset + feature]!;
      sums[feature] += value;
      squares[feature] += value * value;
    }
  }
  const mean: number[] = [];
  const scale: number[] = [];
  for (let feature = 0; feature < featureCount; feature += 1) {
    const average = sums[feature]! / Math.max(1, count);
    const variance = Math.max(0, squares[feature]! / Math.max(1, count) - average * average);
    const std = Math.sqrt(variance);
    mean.push(average);
    const weight = weights[feature] ?? 1;
    // A fixed-unit feature keeps its weight even when it never varied in training: a content token
    // or an unseen prefix that no training row had is exactly what should stand out.
    scale.push(kinds[feature] === 'fixed' ? weight : std < MIN_STD ? 0 : weight / Math.max(std, STD_FLOOR));
  }
  return { mean, scale, clip };
}

/** Standardises rows into a new array (row-major, same shape). */
export function applyScaler(scaler: Scaler, rows: Float32Array): Float32Array {
  const featureCount = scaler.mean.length;
  const out = new Float32Array(rows.length);
  const { mean, scale, clip } = scaler;
  for (let offset = 0; offset < rows.length; offset += featureCount) {
    for (let feature = 0; feature < featureCount; feature += 1) {
      const value = (rows[offset + feature]! - mean[feature]!) * scale[feature]!;
      out[offset + feature] = value > clip ? clip : Math.max(value, -clip);
    }
  }
  return out;
}

/**
 * Standardises rows straight into the augmented layout the distance product uses,
 * [z, 1, ||z||²] per row (see kmeans.ts), saving a pass and an allocation per batch.
 */
export function applyScalerAugmented(scaler: Scaler, rows: Float32Array): Float32Array {
  const kernel = scalerKernel(scaler);
  const count = rows.length / kernel.featureCount;
  const out = new Float32Array(count * (kernel.featureCount + 2));
  for (let row = 0; row < count; row += 1) kernel.scaleRowAugmented(rows, row * kernel.featureCount, out, row * (kernel.featureCount + 2));
  return out;
}

/** A scaler in typed arrays, for scaling one row at a time (while it is still in cache). */
export interface ScalerKernel {
  featureCount: number;
  /** Writes the augmented row [z, 1, ||z||²] of the raw row at rawOffset to out at outOffset. */
  scaleRowAugmented(raw: Float32Array, rawOffset: number, out: Float32Array, outOffset: number): void;
}

const kernels = new WeakMap<Scaler, ScalerKernel>();

export function scalerKernel(scaler: Scaler): ScalerKernel {
  let kernel = kernels.get(scaler);
  if (kernel) return kernel;
  const mean = Float64Array.from(scaler.mean);
  const scale = Float64Array.from(scaler.scale);
  const { clip } = scaler;
  const featureCount = mean.length;
  kernel = {
    featureCount,
    scaleRowAugmented(raw, rawOffset, out, outOffset) {
      let norm = 0;
      for (let feature = 0; feature < featureCount; feature += 1) {
        let value = (raw[rawOffset + feature]! - mean[feature]!) * scale[feature]!;
        value = value > clip ? clip : Math.max(value, -clip);
        out[outOffset + feature] = value;
        norm += value * value;
      }
      out[outOffset + featureCount] = 1;
      out[outOffset + featureCount + 1] = norm;
    },
  };
  kernels.set(scaler, kernel);
  return kernel;
}
