// A log-linear latency histogram in the style of HdrHistogram: integer microseconds, values below 256 µs exact,
// above that 128 sub-buckets per power of two (relative error under 1/128). Fixed size, mergeable across workers.

/** Sub-bucket bits: 2^8 exact buckets at the bottom, then 2^7 per power of two. */
const SUB_BUCKET_BITS = 8;
const SUB_BUCKET_COUNT = 1 << SUB_BUCKET_BITS;
const HALF_SUB_BUCKET_COUNT = SUB_BUCKET_COUNT >> 1;
/** Largest recordable value: just under 2^31 µs (about 36 minutes); larger values are clamped. */
export const HISTOGRAM_MAX_VALUE_US = 0x7fffffff;
const BUCKET_COUNT = SUB_BUCKET_COUNT + (31 - SUB_BUCKET_BITS) * HALF_SUB_BUCKET_COUNT;

/** Serializable form, sent from worker threads to the parent. */
export interface HistogramSnapshot {
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

function indexOf(valueUs: number): number {
  if (valueUs < SUB_BUCKET_COUNT) return valueUs;
  const msb = 31 - Math.clz32(valueUs);
  const shift = msb - (SUB_BUCKET_BITS - 1);
  const mantissa = valueUs >>> shift; // in [HALF, SUB_BUCKET_COUNT)
  return SUB_BUCKET_COUNT + (shift - 1) * HALF_SUB_BUCKET_COUNT + (mantissa - HALF_SUB_BUCKET_COUNT);
}

/** Lowest and highest value that land in bucket `index`. */
export function bucketRange(index: number): { lowUs: number; highUs: number } {
  if (index < SUB_BUCKET_COUNT) return { lowUs: index, highUs: index };
  const rest = index - SUB_BUCKET_COUNT;
  const shift = Math.floor(rest / HALF_SUB_BUCKET_COUNT) + 1;
  const mantissa = (rest % HALF_SUB_BUCKET_COUNT) + HALF_SUB_BUCKET_COUNT;
  const lowUs = mantissa * 2 ** shift;
  return { lowUs, highUs: lowUs + 2 ** shift - 1 };
}

/** Latencies in microseconds. Percentiles answer the highest value equivalent to the rank's bucket, capped at max. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private countTotal = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  record(valueUs: number): void {
    const v = Math.min(HISTOGRAM_MAX_VALUE_US, Math.max(0, Math.round(valueUs)));
    this.counts[indexOf(v)]! += 1;
    this.countTotal += 1;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.countTotal;
  }
  get minUs(): number {
    return this.countTotal === 0 ? 0 : this.min;
  }
  get maxUs(): number {
    return this.max;
  }
  get meanUs(): number {
    return this.countTotal === 0 ? 0 : this.sum / this.countTotal;
  }

  /** The value at rank ceil(p/100 · count), as a sorted array would answer it, within the bucket's precision. */
  percentileUs(p: number): number {
    if (this.countTotal === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.countTotal));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.max(this.minUs, Math.min(this.max, bucketRange(i).highUs));
    }
    return this.max;
  }

  /** Counts in `bins` equal-width bins from min to max, as etcd's benchmark prints them. */
  linearBins(bins: number): { fromUs: number; toUs: number; count: number }[] {
    const lo = this.minUs;
    const width = Math.max(1, (this.max - lo) / bins);
    const out = Array.from({ length: bins }, (_, i) => ({ fromUs: lo + i * width, toUs: lo + (i + 1) * width, count: 0 }));
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      const { lowUs, highUs } = bucketRange(i);
      const mid = Math.min(this.max, Math.max(lo, (lowUs + highUs) / 2));
      const bin = Math.min(bins - 1, Math.floor((mid - lo) / width));
      out[bin]!.count += c;
    }
    return out;
  }

  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), count: this.countTotal, sumUs: this.sum, minUs: this.minUs, maxUs: this.max };
  }

  merge(other: HistogramSnapshot): void {
    if (other.count === 0) return;
    for (let i = 0; i < BUCKET_COUNT; i++) this.counts[i]! += other.counts[i] ?? 0;
    this.countTotal += other.count;
    this.sum += other.sumUs;
    this.min = Math.min(this.min, other.minUs);
    this.max = Math.max(this.max, other.maxUs);
  }
}
