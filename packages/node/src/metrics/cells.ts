/**
 * Counters and histograms whose hot path is a field update: a caller takes a labelled cell once
 * (`cell(labels)`) and bumps it on every event; the registry reads the cells only at scrape time.
 * prom-client's own `inc(labels)`/`observe(labels, v)` hash the label object on every call
 * (≈0.5–1 µs each), which the gRPC path would pay several times per request (docs/metrics.md,
 * "Cost of --metrics extensive"). The text they expose is prom-client's.
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface Sample {
  readonly value: number;
  readonly labels: Labels;
  readonly metricName?: string;
}

/** What prom-client's Registry needs of a metric: a name, get() at scrape time, reset(). */
abstract class CellMetric<C> {
  protected readonly cells = new Map<string, { readonly labels: Labels; readonly cell: C }>();
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(registry: Registry, readonly name: string, readonly help: string) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The cell for these labels, created (at 0) on first use; keep it and update it directly. */
  cell(labels: Labels): C {
    const key = JSON.stringify(labels);
    let entry = this.cells.get(key);
    if (entry === undefined) {
      entry = { labels, cell: this.create() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const { labels, cell } of this.cells.values()) this.samples(labels, cell, values);
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const key of [...this.cells.keys()]) {
      const entry = this.cells.get(key);
      if (entry !== undefined) this.cells.set(key, { labels: entry.labels, cell: this.create() });
    }
  }

  protected abstract create(): C;
  protected abstract samples(labels: Labels, cell: C, into: Sample[]): void;
}

export interface CounterCell {
  value: number;
}

export class CellCounter extends CellMetric<CounterCell> {
  readonly type = 'counter';

  protected create(): CounterCell {
    return { value: 0 };
  }

  protected samples(labels: Labels, cell: CounterCell, into: Sample[]): void {
    into.push({ labels, value: cell.value });
  }
}

export class HistogramCell {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class CellHistogram extends CellMetric<HistogramCell> {
  readonly type = 'histogram';

  constructor(registry: Registry, name: string, help: string, private readonly bounds: readonly number[]) {
    super(registry, name, help);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  protected samples(labels: Labels, cell: HistogramCell, into: Sample[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += cell.counts[i] as number;
      into.push({ metricName: `${this.name}_bucket`, labels: { le: String(bound), ...labels }, value: cumulative });
    });
    into.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: cell.count });
    into.push({ metricName: `${this.name}_sum`, labels, value: cell.sum });
    into.push({ metricName: `${this.name}_count`, labels, value: cell.count });
  }
}
