/**
 * Sends a Range answer the read pool already framed without grpc-js copying it again. grpc-js
 * 1.14's server (server-interceptors.js, BaseServerInterceptingCall.serializeMessage) serializes
 * every response and then copies it into a new buffer with the 5-byte gRPC prefix; for a 100 MB
 * range that copy (plus faulting in 100 MB of fresh pages) held the event loop 40-140 ms here.
 * The worker writes the prefix itself (mvcc/read-pool/encode.ts), so for an untouched
 * EncodedRangeResponse the framed bytes are the answer. Everything else, and any grpc-js whose
 * internals differ, goes through grpc-js's own serializeMessage unchanged.
 */
import { createRequire } from 'node:module';
import { EncodedRangeResponse } from '../mvcc/index.js';

interface InterceptingCallPrototype {
  serializeMessage?: (this: unknown, value: unknown) => Buffer;
}

let installed = false;

/** Installs the bypass once per process; false if this grpc-js has no such method to wrap. */
export function sendPreFramedRanges(): boolean {
  if (installed) return true;
  const require = createRequire(import.meta.url);
  const internals = require('@grpc/grpc-js/build/src/server-interceptors.js') as { BaseServerInterceptingCall?: { prototype: InterceptingCallPrototype } };
  const proto = internals.BaseServerInterceptingCall?.prototype;
  const original = proto?.serializeMessage;
  if (proto === undefined || original === undefined) return false;
  proto.serializeMessage = function serializeMessage(this: unknown, value: unknown): Buffer {
    const framed = value instanceof EncodedRangeResponse ? value.framed() : undefined;
    return framed ?? original.call(this, value);
  };
  installed = true;
  return true;
}
