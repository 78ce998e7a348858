/**
 * etcd's gRPC receive limit (--max-request-bytes + 512 KiB) with grpc-go's wording. grpc-js would
 * refuse an oversized message itself, but in its own words; so its limit is set higher
 * (GRPC_JS_HARD_LIMIT_FACTOR times etcd's) and each method's deserializer stands in: a message over
 * etcd's limit is not decoded, and the handler answers it with the catalogue's text.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { CorvidError } from '../errors/index.js';

/** grpc-js still refuses, in its own words, anything this many times over etcd's limit. */
export const GRPC_JS_HARD_LIMIT_FACTOR = 4;

const oversized = new WeakMap<object, number>();

/** A copy of `service` whose deserializers mark messages longer than `maxBytes` instead of decoding them. */
export function withRequestSizeLimit<S extends ServiceDefinition>(service: S, maxBytes: number): S {
  const limited: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(service)) {
    limited[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        if (bytes.length <= maxBytes) return method.requestDeserialize(bytes);
        const marker = {};
        oversized.set(marker, bytes.length);
        return marker;
      },
    };
  }
  return limited as S;
}

/** Throws grpc-go's size error if `request` was marked by withRequestSizeLimit. */
export function checkRequestSize(request: unknown, maxBytes: number): void {
  if (typeof request !== 'object' || request === null) return;
  const size = oversized.get(request);
  if (size !== undefined) throw new CorvidError('GrpcMessageTooLarge', { detail: `${size} vs. ${maxBytes}` });
}
