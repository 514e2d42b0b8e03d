/**
 * Buckets and objects of the S3 stand-in, in memory or in a data directory (`npm start`:
 * `.x-channel/s3/`). On disk each bucket is a directory `<bucket>/` with `bucket.json`, and each
 * object two files named by the SHA-256 of its key: `<hash>.json` (key and metadata) and `<hash>.bin`
 * (the bytes), each written to a temporary file and renamed, so a crash leaves the old or the new
 * object, never half of one. Objects are read from disk when asked for, not kept in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { S3Error } from './errors';

/** What S3 keeps of an object besides its bytes. */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Quoted MD5 of the bytes, as S3 answers it for a single-part upload. */
  etag: string;
  contentType: string;
  /** Epoch ms, whole seconds (S3's `Last-Modified` has second precision). */
  lastModified: number;
  /** `x-amz-meta-*` headers, names lowercased without the prefix. */
  metadata: Record<string, string>;
  /** Standard headers stored with the object and returned on GET/HEAD. */
  headers: Partial<
    Record<
      'cache-control' | 'content-disposition' | 'content-encoding' | 'content-language' | 'expires',
      string
    >
  >;
  /** The checksum the upload carried (and the stand-in verified), returned when asked for. */
  checksum?: { algorithm: string; value: string };
  /** SSE headers the upload named (echoed; the stand-in does not encrypt). */
  sse?: { algorithm: string; kmsKeyId?: string };
}

interface Bucket {
  name: string;
  creationDate: number;
  region: string;
  objects: Map<string, ObjectMeta>;
  /** In-memory bytes (no data directory). */
  bodies: Map<string, Buffer>;
}

const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3 keys are at most 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

const keyHash = (key: string) => createHash('sha256').update(key).digest('hex');

function writeAtomically(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The buckets and objects; `dataDir` keeps them across restarts. */
export class S3Store {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly dataDir?: string,
    private readonly now: () => number = Date.now,
  ) {
    if (dataDir) this.load(dataDir);
  }

  private load(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const bucketFile = path.join(dir, name, 'bucket.json');
      if (!existsSync(bucketFile)) continue;
      const info = JSON.parse(readFileSync(bucketFile, 'utf8')) as { creationDate: number; region: string };
      const bucket: Bucket = { name, ...info, objects: new Map(), bodies: new Map() };
      for (const file of readdirSync(path.join(dir, name))) {
        if (!/^[0-9a-f]{64}\.json$/.test(file)) continue;
        const meta = JSON.parse(readFileSync(path.join(dir, name, file), 'utf8')) as ObjectMeta;
        if (existsSync(path.join(dir, name, file.replace(/\.json$/, '.bin'))))
          bucket.objects.set(meta.key, meta);
      }
      this.buckets.set(name, bucket);
    }
  }

  private bucketDir(name: string): string | undefined {
    return this.dataDir && path.join(this.dataDir, name);
  }

  /** The bucket, or `NoSuchBucket`. */
  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new S3Error('NoSuchBucket', { BucketName: name });
    return bucket;
  }

  listBuckets(): Array<{ name: string; creationDate: number }> {
    return [...this.buckets.values()]
      .map(({ name, creationDate }) => ({ name, creationDate }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  bucketRegion(name: string): string {
    return this.bucket(name).region;
  }

  /** Creates a bucket; `true` when it was new, `false` when this owner already had it. */
  createBucket(name: string, region: string): boolean {
    if (!BUCKET_NAME.test(name)) throw new S3Error('InvalidBucketName', { BucketName: name });
    if (this.buckets.has(name)) return false;
    const bucket: Bucket = { name, creationDate: this.now(), region, objects: new Map(), bodies: new Map() };
    const dir = this.bucketDir(name);
    if (dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeAtomically(
        path.join(dir, 'bucket.json'),
        JSON.stringify({ creationDate: bucket.creationDate, region }),
      );
    }
    this.buckets.set(name, bucket);
    return true;
  }

  deleteBucket(name: string): void {
    const bucket = this.bucket(name);
    if (bucket.objects.size > 0) throw new S3Error('BucketNotEmpty', { BucketName: name });
    const dir = this.bucketDir(name);
    if (dir) rmSync(dir, { recursive: true, force: true });
    this.buckets.delete(name);
  }

  put(bucketName: string, meta: Omit<ObjectMeta, 'lastModified'>, body: Buffer): ObjectMeta {
    const bucket = this.bucket(bucketName);
    if (Buffer.byteLength(meta.key) > MAX_KEY_BYTES) {
      throw new S3Error('KeyTooLongError', { Key: meta.key.slice(0, 100) });
    }
    const stored: ObjectMeta = { ...meta, lastModified: Math.floor(this.now() / 1000) * 1000 };
    const dir = this.bucketDir(bucketName);
    if (dir) {
      const base = path.join(dir, keyHash(meta.key));
      writeAtomically(`${base}.bin`, body);
      writeAtomically(`${base}.json`, JSON.stringify(stored));
    } else {
      bucket.bodies.set(meta.key, body);
    }
    bucket.objects.set(meta.key, stored);
    return stored;
  }

  /** The object's metadata, or `NoSuchBucket` / `NoSuchKey`. */
  head(bucketName: string, key: string): ObjectMeta {
    const meta = this.bucket(bucketName).objects.get(key);
    if (!meta) throw new S3Error('NoSuchKey', { Key: key });
    return meta;
  }

  /** The object's bytes (call {@link head} first). */
  body(bucketName: string, key: string): Buffer {
    const bucket = this.bucket(bucketName);
    const dir = this.bucketDir(bucketName);
    if (!dir) return bucket.bodies.get(key) ?? Buffer.alloc(0);
    try {
      return readFileSync(path.join(dir, `${keyHash(key)}.bin`));
    } catch {
      throw new S3Error('NoSuchKey', { Key: key });
    }
  }

  /** Deletes the object; deleting a missing key succeeds, as in S3. */
  delete(bucketName: string, key: string): void {
    const bucket = this.bucket(bucketName);
    if (!bucket.objects.delete(key)) return;
    bucket.bodies.delete(key);
    const dir = this.bucketDir(bucketName);
    if (dir) {
      const base = path.join(dir, keyHash(key));
      for (const file of [`${base}.json`, `${base}.bin`]) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    }
  }

  /** Keys of the bucket in UTF-8 binary order (S3's listing order). */
  keys(bucketName: string): ObjectMeta[] {
    return [...this.bucket(bucketName).objects.values()].sort((a, b) =>
      Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)),
    );
  }
}
