/**
 * A tiny OTLP/gRPC trace receiver on 127.0.0.1 for the tracing test: it serves
 * opentelemetry.proto.collector.trace.v1.TraceService/Export and decodes just the span fields the
 * test reads (ids, name, times, attributes, the resource's attributes) with a hand-written
 * protobuf wire reader, so the test needs no collector and no generated code.
 */
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly resource: Readonly<Record<string, AttributeValue>>;
}

const EXPORT_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
};

/** One protobuf field: its number and either a varint/fixed value or length-delimited bytes. */
interface Field {
  readonly no: number;
  readonly int: bigint;
  readonly bytes: Buffer;
}

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    switch (tag & 7) {
      case 0:
        yield { no, int: varint(), bytes: Buffer.alloc(0) };
        break;
      case 1:
        yield { no, int: buf.readBigUInt64LE(pos), bytes: buf.subarray(pos, pos + 8) };
        pos += 8;
        break;
      case 2: {
        const len = Number(varint());
        yield { no, int: 0n, bytes: buf.subarray(pos, pos + len) };
        pos += len;
        break;
      }
      case 5:
        yield { no, int: BigInt(buf.readUInt32LE(pos)), bytes: buf.subarray(pos, pos + 4) };
        pos += 4;
        break;
      default:
        throw new Error(`unexpected wire type in field ${no}`);
    }
  }
}

/** KeyValue{key=1, value=AnyValue{string=1, bool=2, int=3, double=4}}. */
function keyValue(buf: Buffer): [string, AttributeValue] {
  let key = '';
  let value: AttributeValue = '';
  for (const f of fields(buf)) {
    if (f.no === 1) key = f.bytes.toString('utf8');
    if (f.no !== 2) continue;
    for (const v of fields(f.bytes)) {
      if (v.no === 1) value = v.bytes.toString('utf8');
      else if (v.no === 2) value = v.int !== 0n;
      else if (v.no === 3) value = Number(BigInt.asIntN(64, v.int));
      else if (v.no === 4) value = v.bytes.readDoubleLE(0);
    }
  }
  return [key, value];
}

/** ExportTraceServiceRequest{resource_spans=1: {resource=1: {attributes=1}, scope_spans=2: {spans=2: Span}}}. */
export function decodeExport(buf: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of fields(buf)) {
    if (rs.no !== 1) continue;
    const resource: Record<string, AttributeValue> = {};
    const scopeSpans: Buffer[] = [];
    for (const f of fields(rs.bytes)) {
      if (f.no === 1) for (const a of fields(f.bytes)) if (a.no === 1) { const [k, v] = keyValue(a.bytes); resource[k] = v; }
      if (f.no === 2) scopeSpans.push(f.bytes);
    }
    for (const ss of scopeSpans) for (const s of fields(ss)) if (s.no === 2) spans.push(decodeSpan(s.bytes, resource));
  }
  return spans;
}

/** Span{trace_id=1, span_id=2, parent_span_id=4, name=5, start=7, end=8, attributes=9}. */
function decodeSpan(buf: Buffer, resource: Record<string, AttributeValue>): ReceivedSpan {
  const span = { traceId: '', spanId: '', parentSpanId: '', name: '', startNs: 0n, endNs: 0n, attributes: {} as Record<string, AttributeValue>, resource };
  for (const f of fields(buf)) {
    if (f.no === 1) span.traceId = f.bytes.toString('hex');
    else if (f.no === 2) span.spanId = f.bytes.toString('hex');
    else if (f.no === 4) span.parentSpanId = f.bytes.toString('hex');
    else if (f.no === 5) span.name = f.bytes.toString('utf8');
    else if (f.no === 7) span.startNs = f.int;
    else if (f.no === 8) span.endNs = f.int;
    else if (f.no === 9) {
      const [k, v] = keyValue(f.bytes);
      span.attributes[k] = v;
    }
  }
  return span;
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private constructor(private readonly server: Server, readonly address: string) {}

  static async start(): Promise<OtlpReceiver> {
    const server = new Server();
    let receiver: OtlpReceiver | undefined;
    const implementation: UntypedServiceImplementation = {
      Export: (call: { request: Buffer }, callback: (err: null, res: Buffer) => void) => {
        receiver?.spans.push(...decodeExport(call.request));
        callback(null, Buffer.alloc(0));
      },
    };
    server.addService(EXPORT_SERVICE, implementation);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    receiver = new OtlpReceiver(server, `127.0.0.1:${port}`);
    return receiver;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
