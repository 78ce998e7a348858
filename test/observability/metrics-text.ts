/**
 * Reads Prometheus text exposition into metric families: name, type, the label names its samples carry, and
 * for a histogram its bucket boundaries — what a dashboard or alert depends on, and what the differential test
 * compares between etcd 3.4 and Corvid.
 */
export interface Family {
  readonly name: string;
  readonly type: string;
  /** Label names over every sample (without `le` and `quantile`), sorted. */
  readonly labels: readonly string[];
  /** Histogram bucket upper bounds as written (`+Inf` last); empty for other types. */
  readonly buckets: readonly string[];
  readonly samples: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseFamilies(text: string): Map<string, Family> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
  const labels = new Map<string, Set<string>>();
  const buckets = new Map<string, string[]>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m === null || line.startsWith('#')) continue;
    const sampleName = m[1] as string;
    const family = familyOf(sampleName, types);
    samples.set(family, (samples.get(family) ?? 0) + 1);
    const names = labels.get(family) ?? new Set<string>();
    labels.set(family, names);
    for (const l of (m[2] ?? '').matchAll(LABEL)) {
      const [, name, value] = l as unknown as [string, string, string];
      if (name === 'le' && sampleName.endsWith('_bucket')) {
        const bounds = buckets.get(family) ?? [];
        if (!bounds.includes(value)) bounds.push(value);
        buckets.set(family, bounds);
      } else if (name !== 'quantile') {
        names.add(name);
      }
    }
  }
  const families = new Map<string, Family>();
  for (const [name, type] of types) {
    families.set(name, {
      name, type,
      labels: [...(labels.get(name) ?? [])].sort(),
      buckets: (buckets.get(name) ?? []).map(normalizeBound),
      samples: samples.get(name) ?? 0,
    });
  }
  return families;
}

/** A sample's family: itself, or a histogram/summary's name without _bucket/_sum/_count. */
function familyOf(sample: string, types: ReadonlyMap<string, string>): string {
  if (types.has(sample)) return sample;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix) && types.has(sample.slice(0, -suffix.length))) return sample.slice(0, -suffix.length);
  }
  return sample;
}

/** Go prints 0.001 as "0.001" and 1 as "1"; prom-client likewise, but 1e-4 as "0.0001": compare as numbers. */
function normalizeBound(bound: string): string {
  return bound === '+Inf' ? bound : String(Number(bound));
}
