/**
 * @corvid/proto — generated codecs and gRPC service definitions for etcd 3.4's wire protocol
 * (etcdserverpb, mvccpb, authpb), Corvid's own Raft log records (corvidpb) and the gRPC health service.
 * Everything under ./gen is produced by `npm run gen -w @corvid/proto`; do not edit it.
 */
export * as etcdserverpb from './gen/etcd/etcdserverpb/rpc.js';
export * as mvccpb from './gen/etcd/mvccpb/kv.js';
export * as authpb from './gen/etcd/authpb/auth.js';
export * as corvidpb from './gen/corvid/internal.js';
export * as corvidpeer from './gen/corvid/peer.js';
export * as grpchealth from './gen/grpc/health/v1/health.js';
export { PROTO_MESSAGE_FIELDS } from './gen/field-names.js';
// The protobuf wire primitives, for the one hand-written hot-path codec (the peer transport's
// MessageBatch, which must not copy entry data): it encodes exactly what corvidpeer describes.
export { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
