/**
 * `.x-channel/local.json`: the fixed local surface (DESIGN.md "Local surfaces") that the console,
 * the e2e tests, the benchmark and people read to find the running stack. Keys are a contract.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const origin = z.url();

/**
 * The shape of `local.json`, strict: an extra or missing key is a contract break.
 *
 * @example
 * const local = localJsonSchema.parse(JSON.parse(readFileSync('.x-channel/local.json', 'utf8')));
 * await fetch(`${local.apiUrl}/channels`, { headers: { authorization: `Bearer ${local.adminToken}` } });
 */
export const localJsonSchema = z.strictObject({
  /** The admin console (served by the local HTTP host). */
  adminUrl: origin,
  /**
   * Opening it signs a browser into the console (local only): `<adminUrl>#signin=<code>`, a one-time
   * code valid 10 minutes (not the admin token); `npm run sign-in-link` prints another.
   */
  adminLoginUrl: origin,
  /** Origin of the admin API (same paths as in AWS). */
  apiUrl: origin,
  /** Bearer token of the local admin API (what Cognito issues in AWS). */
  adminToken: z.string().min(16),
  region: z.string().min(1),
  endpoints: z.strictObject({ sqs: origin, dynamodb: origin, secretsManager: origin, s3: origin }),
  /** The queues the case system uses. */
  queues: z.strictObject({ inbound: origin, outbound: origin, results: origin }),
  /**
   * Buckets: `media` holds inbound DM media (presigned URLs in `attachments[].url`) and the outbound
   * media a case system puts for `mediaUrls` (`s3://<media>/<key>`). Reach it at `endpoints.s3`
   * path-style (`forcePathStyle: true`).
   */
  buckets: z.strictObject({ media: z.string().min(3) }),
  /** The key pair the local AWS stand-ins accept; random per data directory (fresh with `--memory`). */
  credentials: z.strictObject({
    accessKeyId: z.string().min(16),
    secretAccessKey: z.string().min(32),
  }),
  x: z.strictObject({
    mode: z.enum(['simulated', 'real']),
    /** Origin of the X API (the simulator's, or https://api.x.com). */
    baseUrl: origin,
    /** Origin of the simulator's `/_sim/*` control API; null with real X. */
    controlUrl: origin.nullable(),
  }),
});

export type LocalJson = z.infer<typeof localJsonSchema>;

/** Writes the file atomically (temp + rename), readable by the owner only: it holds the admin token and keys. */
export function writeLocalJson(dir: string, value: LocalJson): string {
  const file = path.join(dir, 'local.json');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(localJsonSchema.parse(value), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  chmodSync(file, 0o600);
  return file;
}
