/**
 * OpenTelemetry tracing of the write path: one trace per request, from the gRPC call through
 * propose, Raft commit and apply to the response, with the member id, Raft index and term and the
 * resulting revision as attributes. Switched on by etcd 3.5's flags
 * (`--experimental-enable-distributed-tracing`, `...-address`, `...-service-name`,
 * `...-sampling-rate` in samples per million) or by an OTLP endpoint in the environment
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, the SDK then reading the
 * other OTEL_* variables itself). Exports OTLP over gRPC.
 *
 * Off by default and free when off: `startTracing` then returns undefined, and the API and the
 * proposer skip every tracing branch on that one check (no no-op spans, no context switches).
 */
export { startTracing, traceProposals, type Tracing, type ServerSpan, type ProposalSpans } from './tracing.js';
