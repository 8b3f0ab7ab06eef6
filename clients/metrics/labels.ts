// Keeps Prometheus label values bounded: endpoints and labels from the data (which an attacker
// or a misconfigured client controls) are mapped onto a fixed-size set.

export const OTHER = 'other';

/** Remembers the first `capacity` distinct values; every later new value becomes "other". */
export class BoundedLabelSet {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity: number) {}

  label(value: string | null | undefined): string {
    if (value === null || value === undefined || value === '') return 'none';
    if (this.seen.has(value)) return value;
    if (this.seen.size < this.capacity) {
      this.seen.add(value);
      return value;
    }
    return OTHER;
  }
}

/** "2xx", "4xx", … from an HTTP status. */
export function statusClass(status: number): string {
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : OTHER;
}
