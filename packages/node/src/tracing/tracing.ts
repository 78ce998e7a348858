/**
 * The tracer behind `Tracing`: a NodeSDK with an OTLP/gRPC exporter, a parent-based ratio sampler
 * (etcd 3.5's: rate per million, 0 samples only what a sampled caller propagates), and W3C trace
 * context taken from the call's metadata, so a client's trace continues into the member.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/index.js';
import type { Logger } from '../util/logger.js';
import { CORVID_VERSION } from '../version.js';

/**
 * What the raft driver tells a traced proposal (structurally its `ProposalTrace`; declared here so
 * tracing, shared by every layer, imports none of them).
 */
export interface ProposalTrace {
  committed(index: number, term: number): void;
  applied(): void;
}

/** The server span of one unary call. */
export interface ServerSpan {
  /** Runs the handler with this span active, so the spans it starts (propose) become children. */
  run<T>(fn: () => T): T;
  /** Runs the reply (serialization and send) in a `respond` child span, then ends the call's span. */
  respond(code: number, response: unknown, send: () => void): void;
}

/** The spans of one proposal: `propose`, with `raft.commit` and `apply` children timed by the driver. */
export interface ProposalSpans {
  /** Handed to the raft driver, which reports the entry's commit and apply. */
  readonly trace: ProposalTrace;
  end(outcome: { response?: unknown; error?: unknown }): void;
}

export interface Tracing {
  serverSpan(service: string, method: string, metadata: Readonly<Record<string, unknown>>): ServerSpan;
  proposal(): ProposalSpans;
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  readonly config: TracingConfig;
  readonly memberIdHex: string;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts the SDK when the flags or the environment ask for tracing; undefined otherwise. */
export function startTracing({ config, memberIdHex, logger, env = process.env }: TracingOptions): Tracing | undefined {
  const fromEnv = env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] !== undefined;
  if (!config.enabled && !fromEnv) return undefined;
  const resource = resourceFromAttributes({
    'service.name': config.enabled ? config.serviceName : (env['OTEL_SERVICE_NAME'] ?? config.serviceName),
    'service.instance.id': memberIdHex,
    'service.version': CORVID_VERSION,
  });
  // The flags choose exporter address and sampler; with the environment only, the SDK reads OTEL_*.
  const sdk = config.enabled
    ? new NodeSDK({
      resource,
      traceExporter: new OTLPTraceExporter({ url: `http://${config.address}` }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(Math.min(1, config.samplingRatePerMillion / 1e6)) }),
      instrumentations: [],
    })
    : new NodeSDK({ resource, instrumentations: [] });
  sdk.start();
  logger.info('distributed tracing enabled', { address: config.enabled ? config.address : 'from OTEL_* environment', 'sampling-rate': config.samplingRatePerMillion });
  return new OtelTracing(trace.getTracer('corvid', CORVID_VERSION), memberIdHex, sdk);
}

class OtelTracing implements Tracing {
  constructor(private readonly tracer: Tracer, private readonly memberIdHex: string, private readonly sdk: NodeSDK) {}

  serverSpan(service: string, method: string, metadata: Readonly<Record<string, unknown>>): ServerSpan {
    const parent = propagation.extract(context.active(), metadata);
    const span = this.tracer.startSpan(`${service}/${method}`, {
      kind: SpanKind.SERVER,
      startTime: now(),
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'etcd.member_id': this.memberIdHex },
    }, parent);
    const active = trace.setSpan(parent, span);
    return {
      run: (fn) => context.with(active, fn),
      respond: (code, response, send) => {
        span.setAttribute('rpc.grpc.status_code', code);
        setRevision(span, response);
        if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR });
        const respond = this.tracer.startSpan('respond', { startTime: now() }, active);
        try {
          send();
        } finally {
          const end = now();
          respond.end(end);
          span.end(end);
        }
      },
    };
  }

  proposal(): ProposalSpans {
    const parent = context.active();
    const startedAt = performance.now();
    const span = this.tracer.startSpan('propose', { startTime: hrTime(startedAt), attributes: { 'etcd.member_id': this.memberIdHex } }, parent);
    const inPropose: Context = trace.setSpan(parent, span);
    let committedAt = startedAt;
    const child = (name: string, start: number, end: number, attributes: Attributes): void => {
      this.tracer.startSpan(name, { startTime: hrTime(start), attributes }, inPropose).end(hrTime(end));
    };
    return {
      trace: {
        committed: (index, term) => {
          committedAt = performance.now();
          span.setAttributes({ 'raft.index': index, 'raft.term': term });
          child('raft.commit', startedAt, committedAt, { 'raft.index': index, 'raft.term': term });
        },
        applied: () => child('apply', committedAt, performance.now(), {}),
      },
      end: ({ response, error }) => {
        setRevision(span, response);
        if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        span.end(now());
      },
    };
  }

  async shutdown(): Promise<void> {
    await this.sdk.shutdown();
  }
}

/**
 * A performance.now() reading as an HrTime. Every span here is timed this way: the SDK's own
 * clock (and plain numbers) apply a per-span Date/performance offset, which reorders adjacent
 * spans by up to a millisecond.
 */
function hrTime(performanceMs: number): HrTime {
  const epochNs = BigInt(Math.round((performance.timeOrigin + performanceMs) * 1e6));
  return [Number(epochNs / 1_000_000_000n), Number(epochNs % 1_000_000_000n)];
}

const now = (): HrTime => hrTime(performance.now());

/** The revision of an etcd response (`header.revision`), as the span's `etcd.revision`. */
function setRevision(span: Span, response: unknown): void {
  const revision = (response as { header?: { revision?: bigint | number } } | null | undefined)?.header?.revision;
  if (revision !== undefined) span.setAttribute('etcd.revision', Number(revision));
}

/**
 * The raft driver's `propose` wrapped in a `propose` span (a child of the calling gRPC span) whose
 * trace the driver fills with the entry's commit and apply. `result` is the applier's verdict.
 */
export function traceProposals<R>(tracing: Tracing, propose: (data: Uint8Array, trace: ProposalTrace) => Promise<R>): (data: Uint8Array) => Promise<R> {
  return async (data) => {
    const spans = tracing.proposal();
    try {
      const result = await propose(data, spans.trace);
      const verdict = result as { ok?: boolean; response?: unknown; error?: unknown };
      spans.end(verdict.ok === false ? { error: verdict.error } : { response: verdict.response });
      return result;
    } catch (error) {
      spans.end({ error });
      throw error;
    }
  };
}
