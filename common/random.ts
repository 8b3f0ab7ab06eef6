// Seeded pseudo-random numbers, so generated traffic, sampling and k-means are reproducible from one integer seed.

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
  return new Mulberry32(seed);
}

/** A class rather than closures: the generator makes one per client copy, so creating one must be cheap. */
class Mulberry32 implements Random {
  private state: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
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
