/**
 * Backups: stream Maintenance.Snapshot from one member into a file, verify it, then store it.
 * etcd (and Corvid) append the SHA-256 of the database to the stream as its last 32 bytes, which
 * `etcdctl snapshot restore` checks; the operator checks the same digest before it calls a backup
 * Succeeded, and records the SHA-256 of the whole file (what `sha256sum` prints) in the EtcdBackup status.
 * Destinations: a volume the operator has mounted (location `volume://<claim>/<path>`, which a restore init
 * container mounts in turn) or an S3-compatible bucket (`s3://<bucket>/<key>`).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BackupDestination, S3Destination } from '../crd/types.js';
import type { MemberApi } from '../observe/etcd-client.js';

const SHA256_BYTES = 32;

export interface SnapshotFile {
  readonly path: string;
  readonly sizeBytes: number;
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
  readonly revision: number;
}

/** Streams a snapshot to `path` and verifies the trailing digest; throws (and removes the file) if it is wrong. */
export async function saveSnapshot(member: MemberApi, path: string): Promise<SnapshotFile> {
  await mkdir(dirname(path), { recursive: true });
  const whole = createHash('sha256');
  const out = createWriteStream(path);
  let revision = 0;
  let size = 0;
  let tail = Buffer.alloc(0);
  const body = createHash('sha256');
  try {
    const stream = member.snapshot();
    for await (const chunk of stream as AsyncIterable<{ blob: Buffer; header?: { revision: bigint } }>) {
      if (revision === 0 && chunk.header !== undefined) revision = Number(chunk.header.revision);
      whole.update(chunk.blob);
      size += chunk.blob.length;
      // Everything but the last 32 bytes is the database; keep a 32-byte tail back.
      const joined = Buffer.concat([tail, chunk.blob]);
      const cut = Math.max(0, joined.length - SHA256_BYTES);
      body.update(joined.subarray(0, cut));
      tail = joined.subarray(cut);
      if (!out.write(chunk.blob)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    if (tail.length !== SHA256_BYTES || !body.digest().equals(tail)) throw new Error(`snapshot from member failed its SHA-256 check (${size} bytes)`);
    return { path, sizeBytes: size, sha256: whole.digest('hex'), revision };
  } catch (err) {
    out.destroy();
    await rm(path, { force: true });
    throw err;
  }
}

export interface StoredBackup {
  readonly location: string;
}

function s3Client(d: S3Destination, credentials: { accessKeyId: string; secretAccessKey: string } | undefined): S3Client {
  return new S3Client({
    // Checksums only where S3 requires them: the default streams bodies as aws-chunked with a CRC trailer,
    // which several S3-compatible stores keep verbatim (the stored object grows by the chunk framing).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    region: d.region ?? 'us-east-1',
    forcePathStyle: d.forcePathStyle ?? true,
    ...(d.endpoint === undefined ? {} : { endpoint: d.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  });
}

const s3Key = (d: S3Destination, relative: string): string => `${d.prefix === undefined || d.prefix === '' ? '' : `${d.prefix.replace(/\/$/u, '')}/`}${relative}`;

/** Moves a verified snapshot file to its destination under `relative` (e.g. `<ns>/<cluster>/<backup>.db`). */
export async function store(
  file: SnapshotFile,
  destination: BackupDestination,
  relative: string,
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined,
): Promise<StoredBackup> {
  if (destination.volume !== undefined) {
    const target = join(destination.volume.path, relative);
    await mkdir(dirname(target), { recursive: true });
    await rename(file.path, target);
    const st = await stat(target);
    if (st.size !== file.sizeBytes) throw new Error(`stored backup ${target} has ${st.size} bytes, want ${file.sizeBytes}`);
    return { location: `volume://${destination.volume.claimName}/${relative}` };
  }
  if (destination.s3 !== undefined) {
    const d = destination.s3;
    const client = s3Client(d, credentials);
    try {
      const key = s3Key(d, relative);
      await client.send(new PutObjectCommand({ Bucket: d.bucket, Key: key, Body: createReadStream(file.path), ContentLength: file.sizeBytes, Metadata: { sha256: file.sha256, revision: String(file.revision) } }));
      await rm(file.path, { force: true });
      return { location: `s3://${d.bucket}/${key}` };
    } finally {
      client.destroy();
    }
  }
  throw new Error('backup destination names neither a volume nor an s3 bucket');
}

/** Deletes a stored backup by its location; a missing file or object counts as deleted. */
export async function deleteStored(location: string, destination: BackupDestination | undefined, credentials: { accessKeyId: string; secretAccessKey: string } | undefined): Promise<void> {
  const volume = location.match(/^volume:\/\/([^/]+)\/(.+)$/u);
  if (volume !== null) {
    if (destination?.volume === undefined) throw new Error(`cannot delete ${location}: the destination has no volume path`);
    await rm(join(destination.volume.path, volume[2] as string), { force: true });
    return;
  }
  const s3 = location.match(/^s3:\/\/([^/]+)\/(.+)$/u);
  if (s3 !== null && destination?.s3 !== undefined) {
    const client = s3Client(destination.s3, credentials);
    try {
      await client.send(new DeleteObjectCommand({ Bucket: s3[1] as string, Key: s3[2] as string }));
    } finally {
      client.destroy();
    }
    return;
  }
  throw new Error(`cannot delete ${location}: unknown location or destination`);
}
