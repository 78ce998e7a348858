// Goal: the histogram's percentiles, min, max, mean and merge agree with a naive sorted array.
// Method: seeded pseudo-random latencies of several shapes (exact small values, wide log-uniform, heavy tail),
// each percentile checked against sorted[ceil(p·n)-1] within the histogram's stated precision (1/128 relative).
import { LatencyHistogram, bucketRange } from '../src/histogram.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function naivePercentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

const shapes: Record<string, (r: () => number) => number> = {
  small: (r) => Math.floor(r() * 200),
  logUniform: (r) => Math.round(Math.exp(r() * Math.log(5e7))),
  heavyTail: (r) => Math.round(500 / Math.max(1e-4, r()) ** 1.5),
};

describe('LatencyHistogram', () => {
  for (const [name, draw] of Object.entries(shapes)) {
    test(`percentiles match a naive sort: ${name}`, () => {
      const r = mulberry32(name.length * 7919);
      const values = Array.from({ length: 20_000 }, () => draw(r));
      const h = new LatencyHistogram();
      for (const v of values) h.record(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [0, 1, 50, 90, 99, 99.9, 99.99, 100]) {
        const want = naivePercentile(sorted, p);
        const got = h.percentileUs(p);
        expect(got).toBeGreaterThanOrEqual(want);
        expect(got - want).toBeLessThanOrEqual(want / 128 + 1);
      }
      expect(h.minUs).toBe(sorted[0]);
      expect(h.maxUs).toBe(sorted[sorted.length - 1]);
      expect(h.meanUs).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
      expect(h.linearBins(10).reduce((a, b) => a + b.count, 0)).toBe(values.length);
    });
  }

  test('merging snapshots equals recording everything in one', () => {
    const r = mulberry32(42);
    const one = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let i = 0; i < 9000; i++) {
      const v = shapes.logUniform!(r);
      one.record(v);
      parts[i % 3]!.record(v);
    }
    const merged = new LatencyHistogram();
    for (const p of parts) merged.merge(p.snapshot());
    merged.merge(new LatencyHistogram().snapshot());
    for (const p of [50, 99, 99.9]) expect(merged.percentileUs(p)).toBe(one.percentileUs(p));
    expect([merged.count, merged.minUs, merged.maxUs]).toEqual([one.count, one.minUs, one.maxUs]);
  });

  test('buckets tile the value range without gaps', () => {
    for (let i = 1; i < 3000; i++) expect(bucketRange(i).lowUs).toBe(bucketRange(i - 1).highUs + 1);
  });

  test('an empty histogram answers zeros', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.minUs, h.maxUs, h.meanUs, h.percentileUs(99)]).toEqual([0, 0, 0, 0, 0]);
  });
});
