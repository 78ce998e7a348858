#!/usr/bin/env node
// Regenerates src/gen/ from the .proto files with protoc (Debian package protobuf-compiler) and
// ts-proto. Generated code is committed so a fresh machine builds without protoc; CI checks that
// it is up to date (test/proto-gen.test.ts). Never edit src/gen by hand.
import { execFileSync } from 'node:child_process';
import { rmSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? join(here, 'src', 'gen');
const require = createRequire(import.meta.url);
const plugin = join(dirname(require.resolve('ts-proto/package.json')), 'protoc-gen-ts_proto');

export const TS_PROTO_OPTIONS = [
  'forceLong=bigint', // 64-bit ids (lease, member, cluster) exceed 2^53
  'outputServices=grpc-js',
  'esModuleInterop=true',
  'importSuffix=.js',
  'env=node',
  'useOptionals=none',
  'oneof=unions-value',
  'outputTypeRegistry=false',
  'useDate=false',
].join(',');

export const PROTO_FILES = [
  'etcd/mvccpb/kv.proto',
  'etcd/authpb/auth.proto',
  'etcd/etcdserverpb/rpc.proto',
  'corvid/internal.proto',
];

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
execFileSync('protoc', [`--plugin=protoc-gen-ts_proto=${plugin}`, `--ts_proto_out=${outDir}`, `--ts_proto_opt=${TS_PROTO_OPTIONS}`, `-I${here}`, ...PROTO_FILES], { stdio: 'inherit' });
console.log(`generated ${PROTO_FILES.length} files into ${outDir}`);
