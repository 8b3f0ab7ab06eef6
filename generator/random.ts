// Seeded pseudo-random numbers so generated traffic is reproducible from one integer seed.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number;
  /** Standard normal draw. */
  normal(): number;
  /** Log-normal draw with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number;
  /** Exponential draw with the given mean. */
  exponential(mean: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast and good enough for traffic simulation (not for cryptography). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  let spareNormal: number | null = null;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spareNormal !== null) {
      const value = spareNormal;
      spareNormal = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - next()));
    const angle = 2 * Math.PI * next();
    spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    normal,
    logNormal: (median, sigma) => median * Math.exp(sigma * normal()),
    exponential: (mean) => -mean * Math.log(1 - next()),
    chance: (probability) => next() < probability,
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** Picks indices in proportion to fixed weights in O(log n) per draw. */
export interface WeightedPicker {
  /** An index below `count` (default: all), in proportion to the weights of those indices. */
  pick(random: Random, count?: number): number;
}

export function weightedPicker(weights: readonly number[]): WeightedPicker {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((weight, index) => {
    total += Math.max(0, weight);
    cumulative[index] = total;
  });
  if (total <= 0) throw new RangeError('weightedPicker needs at least one positive weight');
  return {
    pick(random, count = cumulative.length) {
      const high0 = Math.max(1, Math.min(count, cumulative.length)) - 1;
      const target = random.next() * cumulative[high0]!;
      let low = 0;
      let high = high0;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (cumulative[middle]! > target) high = middle;
        else low = middle + 1;
      }
      return low;
    },
  };
}
