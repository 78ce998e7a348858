/**
 * What grpc-go refuses before a handler runs, in grpc-go's words: a message over etcd's receive
 * limit (--max-request-bytes + 512 KiB) and a message that does not decode. grpc-js would refuse
 * both itself, in its own words; so its size limit is set higher (GRPC_JS_HARD_LIMIT_FACTOR times
 * etcd's) and each method's deserializer stands in: it marks such a message instead of failing,
 * and the handler answers it from the catalogue.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { CorvidError } from '../errors/index.js';

/** grpc-js still refuses, in its own words, anything this many times over etcd's limit. */
export const GRPC_JS_HARD_LIMIT_FACTOR = 4;

/** Marked requests and the error that answers them. */
const refused = new WeakMap<object, CorvidError>();

function mark(error: CorvidError): object {
  const marker = {};
  refused.set(marker, error);
  return marker;
}

/** protobuf-go's reason for the same fault, as grpc-go reports it. */
function goDecodeReason(err: unknown): string {
  return err instanceof RangeError ? 'unexpected EOF' : 'proto: cannot parse invalid wire-format data';
}

/** A copy of `service` whose deserializers mark oversized or undecodable messages instead of failing. */
export function withGrpcGoRefusals<S extends ServiceDefinition>(service: S, maxBytes: number): S {
  const limited: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    limited[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        if (bytes.length > maxBytes) return mark(new CorvidError('GrpcMessageTooLarge', { detail: `${bytes.length} vs. ${maxBytes}` }));
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return mark(new CorvidError('GrpcUnmarshal', { detail: goDecodeReason(err), cause: err }));
        }
      },
    };
  }
  return limited as S;
}

/** Throws grpc-go's error if `request` was marked by withGrpcGoRefusals. */
export function checkRequestDecoded(request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  const error = refused.get(request);
  if (error !== undefined) throw error;
}
