/**
 * A RangeResponse a read-pool worker has already encoded, with gRPC's 5-byte message prefix in
 * front. grpc-js sends its bytes as they are (`withPreEncodedRange` wraps the KV service's
 * serializer; api/pre-framed.ts also spares grpc-js its copy into a framed buffer); anything that
 * reads it as an object instead (the JSON gateway) gets the fields, `kvs` decoded on first use.
 * Setting any field makes the object an ordinary response again: the serializer then encodes it.
 */
import { etcdserverpb, type mvccpb } from '@corvid/proto';
import { GRPC_PREFIX_BYTES } from './encode.js';

export class EncodedRangeResponse implements etcdserverpb.RangeResponse {
  /** Prefix + encoded response; null once a field was set. */
  private bytes: Buffer | null;
  private fields: { header: etcdserverpb.ResponseHeader | undefined; more: boolean; count: bigint; kvs: mvccpb.KeyValue[] | undefined };

  constructor(framed: Buffer, header: etcdserverpb.ResponseHeader, more: boolean, count: bigint) {
    this.bytes = framed;
    this.fields = { header, more, count, kvs: undefined };
  }

  get header(): etcdserverpb.ResponseHeader | undefined {
    return this.fields.header;
  }
  set header(header: etcdserverpb.ResponseHeader | undefined) {
    this.touch().header = header;
  }
  get more(): boolean {
    return this.fields.more;
  }
  set more(more: boolean) {
    this.touch().more = more;
  }
  get count(): bigint {
    return this.fields.count;
  }
  set count(count: bigint) {
    this.touch().count = count;
  }
  get kvs(): mvccpb.KeyValue[] {
    this.fields.kvs ??= etcdserverpb.RangeResponse.decode(this.bytes!.subarray(GRPC_PREFIX_BYTES)).kvs;
    return this.fields.kvs;
  }
  set kvs(kvs: mvccpb.KeyValue[]) {
    this.touch().kvs = kvs;
  }

  /** The encoded message, unless a field was changed since the worker encoded it. */
  encoded(): Buffer | undefined {
    return this.bytes?.subarray(GRPC_PREFIX_BYTES);
  }

  /** The message with gRPC's prefix, ready for the HTTP/2 stream (same condition). */
  framed(): Buffer | undefined {
    return this.bytes ?? undefined;
  }

  private touch(): EncodedRangeResponse['fields'] {
    if (this.fields.kvs === undefined) void this.kvs;
    this.bytes = null;
    return this.fields;
  }
}

/** `service` with its Range responses sent as pre-encoded when they are. */
export function withPreEncodedRange<S extends { range: { responseSerialize: (value: etcdserverpb.RangeResponse) => Buffer } }>(service: S): S {
  const serialize = service.range.responseSerialize;
  const responseSerialize = (value: etcdserverpb.RangeResponse): Buffer =>
    (value instanceof EncodedRangeResponse ? value.encoded() : undefined) ?? serialize(value);
  return { ...service, range: { ...service.range, responseSerialize } };
}
