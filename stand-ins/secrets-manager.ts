/**
 * A small Secrets Manager stand-in: a real HTTP server speaking the AWS JSON 1.1 protocol
 * (`x-amz-target: secretsmanager.<Op>`), so the real `@aws-sdk/client-secrets-manager` talks to it
 * unchanged. No emulator exists for this machine (LOCAL-STACK.md §3), hence our own.
 *
 * Behaviour follows the service where our code depends on it: version stages (AWSCURRENT moves to
 * AWSPREVIOUS on a new value), deletion with a recovery window (the secret then answers
 * InvalidRequestException on reads, like AWS), ARNs with a 6-character random suffix, epoch-second
 * timestamps, and `{"__type","message"}` error bodies with HTTP 400.
 *
 * With `dataDir`, state is kept in one AES-256-GCM encrypted file, rewritten atomically after every
 * change; its 32-byte key sits beside it with 0600 permissions, standing in for the KMS key that
 * protects secrets in AWS. Secret values are never logged and never appear in error messages.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Options for {@link startSecretsManager}. */
export interface SecretsManagerOptions {
  /** TCP port on 127.0.0.1; 0 or omitted picks a free one. */
  port?: number;
  /** Directory for the encrypted state and its key; omitted keeps everything in memory. */
  dataDir?: string;
  /** Region used in ARNs when a request does not name one in its signature. @default 'us-east-1' */
  region?: string;
}

/** A running Secrets Manager stand-in. */
export interface SecretsManagerStandIn {
  /** `http://127.0.0.1:<port>` — pass it as the Secrets Manager client's `endpoint`. */
  endpoint: string;
  /** Closes the server (state is already on disk after each change). Safe to call twice. */
  stop(): Promise<void>;
}

/** File names inside `dataDir`. */
export const SECRETS_DATA_FILE = 'secrets.enc.json';
export const SECRETS_KEY_FILE = 'secrets.key';

const ACCOUNT_ID = '000000000000';
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SECRET_BYTES = 65536;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

interface Version {
  secretString?: string;
  /** base64, as on the wire */
  secretBinary?: string;
  stages: string[];
  createdDate: number;
}

interface Secret {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: { Key: string; Value: string }[];
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  deletedDate?: number;
  deletionDate?: number;
  versions: Record<string, Version>;
}

/** An AWS-style error: `type` becomes `__type` and, through the SDK, `e.name`. */
class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type Input = Record<string, unknown>;
const nowSeconds = () => Date.now() / 1000;

function str(input: Input, field: string, required: true): string;
function str(input: Input, field: string, required?: false): string | undefined;
function str(input: Input, field: string, required = false): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) {
    if (required) throw new AwsError('InvalidParameterException', `${field} is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new AwsError('InvalidParameterException', `${field} must be a string.`);
  return v;
}

function randomSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('');
}

/** Reads the secret value fields of a request; exactly one of them, or none when `optional`. */
function readValue(
  input: Input,
  optional: boolean,
): Pick<Version, 'secretString' | 'secretBinary'> | undefined {
  const secretString = str(input, 'SecretString');
  const secretBinary = str(input, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new AwsError(
      'InvalidParameterException',
      'You must provide either SecretString or SecretBinary, not both.',
    );
  }
  if (secretString === undefined && secretBinary === undefined) {
    if (optional) return undefined;
    throw new AwsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
  }
  const bytes =
    secretString !== undefined
      ? Buffer.byteLength(secretString)
      : Buffer.from(secretBinary!, 'base64').length;
  if (bytes > MAX_SECRET_BYTES) {
    throw new AwsError(
      'InvalidParameterException',
      `The secret value exceeds the ${MAX_SECRET_BYTES}-byte limit.`,
    );
  }
  return secretString !== undefined ? { secretString } : { secretBinary };
}

function versionToken(input: Input): string {
  const token = str(input, 'ClientRequestToken') ?? randomUUID();
  if (token.length < 32 || token.length > 64) {
    throw new AwsError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters long.');
  }
  return token;
}

/** The in-memory store and the operations; persistence is plugged in through `onChange`. */
class SecretStore {
  secrets = new Map<string, Secret>();

  constructor(
    private readonly defaultRegion: string,
    private readonly onChange: () => void,
  ) {}

  /** Drops secrets whose recovery window has ended, as AWS does in the background. */
  private purgeExpired(): void {
    const now = nowSeconds();
    let changed = false;
    for (const [name, s] of this.secrets) {
      if (s.deletionDate !== undefined && s.deletionDate <= now) {
        this.secrets.delete(name);
        changed = true;
      }
    }
    if (changed) this.onChange();
  }

  private find(input: Input, allowDeleted = false): Secret {
    const id = str(input, 'SecretId', true);
    this.purgeExpired();
    const found =
      this.secrets.get(id) ??
      [...this.secrets.values()].find((s) => s.arn === id || s.arn.slice(0, -7) === id); // partial ARN
    if (!found)
      throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    if (!allowDeleted && found.deletedDate !== undefined) {
      throw new AwsError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return found;
  }

  /** Adds a version; moving AWSCURRENT demotes the old current version to AWSPREVIOUS. */
  private addVersion(
    s: Secret,
    id: string,
    value: Pick<Version, 'secretString' | 'secretBinary'>,
    stages = [CURRENT],
  ) {
    const existing = s.versions[id];
    if (existing) {
      // Same token, same value: an idempotent retry. Same token, other value: refused like AWS.
      if (existing.secretString === value.secretString && existing.secretBinary === value.secretBinary)
        return;
      throw new AwsError(
        'ResourceExistsException',
        `A version with VersionId ${id} already exists with different content.`,
      );
    }
    const previousCurrent = Object.entries(s.versions).find(([, v]) => v.stages.includes(CURRENT))?.[0];
    for (const v of Object.values(s.versions)) v.stages = v.stages.filter((st) => !stages.includes(st));
    if (stages.includes(CURRENT) && previousCurrent) {
      for (const v of Object.values(s.versions)) v.stages = v.stages.filter((st) => st !== PREVIOUS);
      s.versions[previousCurrent].stages.push(PREVIOUS);
    }
    s.versions[id] = { ...value, stages: [...stages], createdDate: nowSeconds() };
    // Versions without a stage are removed, as AWS eventually deprecates them.
    for (const [vid, v] of Object.entries(s.versions)) if (v.stages.length === 0) delete s.versions[vid];
    s.lastChangedDate = nowSeconds();
  }

  private describe(s: Secret) {
    return {
      ARN: s.arn,
      Name: s.name,
      ...(s.description !== undefined ? { Description: s.description } : {}),
      ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
      CreatedDate: s.createdDate,
      LastChangedDate: s.lastChangedDate,
      ...(s.lastAccessedDate !== undefined ? { LastAccessedDate: s.lastAccessedDate } : {}),
      ...(s.deletedDate !== undefined ? { DeletedDate: s.deletedDate } : {}),
      ...(s.tags.length ? { Tags: s.tags } : {}),
      VersionIdsToStages: Object.fromEntries(Object.entries(s.versions).map(([id, v]) => [id, v.stages])),
    };
  }

  private readTags(input: Input): { Key: string; Value: string }[] {
    const tags = input.Tags ?? [];
    if (
      !Array.isArray(tags) ||
      tags.some((t: { Key?: unknown; Value?: unknown }) => typeof t?.Key !== 'string')
    ) {
      throw new AwsError('InvalidParameterException', 'Tags must be a list of {Key, Value}.');
    }
    return tags.map((t: { Key: string; Value?: unknown }) => ({ Key: t.Key, Value: String(t.Value ?? '') }));
  }

  readonly ops: Record<string, (input: Input, region: string | undefined) => unknown> = {
    CreateSecret: (input, region) => {
      const name = str(input, 'Name', true);
      if (!NAME_PATTERN.test(name)) {
        throw new AwsError(
          'InvalidParameterException',
          'Name must be 1-512 characters of A-Z a-z 0-9 /_+=.@-.',
        );
      }
      this.purgeExpired();
      const existing = this.secrets.get(name);
      if (existing?.deletedDate !== undefined) {
        throw new AwsError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      if (existing)
        throw new AwsError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      const value = readValue(input, true);
      const versionId = value ? versionToken(input) : undefined;
      const now = nowSeconds();
      const s: Secret = {
        name,
        arn: `arn:aws:secretsmanager:${region ?? this.defaultRegion}:${ACCOUNT_ID}:secret:${name}-${randomSuffix()}`,
        description: str(input, 'Description'),
        kmsKeyId: str(input, 'KmsKeyId'),
        tags: this.readTags(input),
        createdDate: now,
        lastChangedDate: now,
        versions: {},
      };
      if (value && versionId) this.addVersion(s, versionId, value);
      this.secrets.set(name, s);
      this.onChange();
      return { ARN: s.arn, Name: s.name, ...(versionId ? { VersionId: versionId } : {}) };
    },

    GetSecretValue: (input) => {
      const s = this.find(input);
      const versionId = str(input, 'VersionId');
      const stage = str(input, 'VersionStage') ?? (versionId ? undefined : CURRENT);
      const entry = versionId
        ? ([versionId, s.versions[versionId]] as const)
        : Object.entries(s.versions).find(([, v]) => v.stages.includes(stage!));
      if (!entry?.[1] || (stage && !entry[1].stages.includes(stage))) {
        throw new AwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for ${versionId ? `VersionId: ${versionId}` : `staging label: ${stage}`}`,
        );
      }
      const [id, v] = entry;
      s.lastAccessedDate = Math.floor(nowSeconds() / 86400) * 86400; // AWS keeps the date only
      return {
        ARN: s.arn,
        Name: s.name,
        VersionId: id,
        ...(v.secretString !== undefined
          ? { SecretString: v.secretString }
          : { SecretBinary: v.secretBinary }),
        VersionStages: v.stages,
        CreatedDate: v.createdDate,
      };
    },

    PutSecretValue: (input) => {
      const s = this.find(input);
      const value = readValue(input, false)!;
      const id = versionToken(input);
      const stages = input.VersionStages ?? [CURRENT];
      if (!Array.isArray(stages) || stages.some((x) => typeof x !== 'string') || stages.length === 0) {
        throw new AwsError('InvalidParameterException', 'VersionStages must be a non-empty list of strings.');
      }
      this.addVersion(s, id, value, stages as string[]);
      this.onChange();
      return { ARN: s.arn, Name: s.name, VersionId: id, VersionStages: s.versions[id].stages };
    },

    UpdateSecret: (input) => {
      const s = this.find(input);
      const description = str(input, 'Description');
      const kmsKeyId = str(input, 'KmsKeyId');
      const value = readValue(input, true);
      const id = value ? versionToken(input) : undefined;
      if (description !== undefined) s.description = description;
      if (kmsKeyId !== undefined) s.kmsKeyId = kmsKeyId;
      if (value && id) this.addVersion(s, id, value);
      s.lastChangedDate = nowSeconds();
      this.onChange();
      return { ARN: s.arn, Name: s.name, ...(id ? { VersionId: id } : {}) };
    },

    DeleteSecret: (input) => {
      const force = input.ForceDeleteWithoutRecovery === true;
      const windowDays = input.RecoveryWindowInDays;
      if (force && windowDays !== undefined) {
        throw new AwsError(
          'InvalidParameterException',
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      }
      if (windowDays !== undefined && (typeof windowDays !== 'number' || windowDays < 7 || windowDays > 30)) {
        throw new AwsError(
          'InvalidParameterException',
          'RecoveryWindowInDays must be a number from 7 to 30.',
        );
      }
      const s = this.find(input, true);
      const now = nowSeconds();
      if (force) {
        this.secrets.delete(s.name);
        this.onChange();
        return { ARN: s.arn, Name: s.name, DeletionDate: now };
      }
      if (s.deletedDate !== undefined) {
        throw new AwsError('InvalidRequestException', 'The secret is already scheduled for deletion.');
      }
      s.deletedDate = now;
      s.deletionDate = now + (windowDays ?? 30) * 86400;
      this.onChange();
      return { ARN: s.arn, Name: s.name, DeletionDate: s.deletionDate };
    },

    RestoreSecret: (input) => {
      const s = this.find(input, true);
      delete s.deletedDate;
      delete s.deletionDate;
      this.onChange();
      return { ARN: s.arn, Name: s.name };
    },

    DescribeSecret: (input) => this.describe(this.find(input, true)),

    ListSecrets: (input) => {
      this.purgeExpired();
      const includeDeleted = input.IncludePlannedDeletion === true;
      const max = typeof input.MaxResults === 'number' ? Math.min(Math.max(input.MaxResults, 1), 100) : 100;
      const start = input.NextToken ? Number(Buffer.from(String(input.NextToken), 'base64').toString()) : 0;
      if (!Number.isInteger(start) || start < 0)
        throw new AwsError('InvalidParameterException', 'NextToken is invalid.');
      const filters = Array.isArray(input.Filters)
        ? (input.Filters as { Key?: string; Values?: string[] }[])
        : [];
      const all = [...this.secrets.values()]
        .filter((s) => includeDeleted || s.deletedDate === undefined)
        .filter((s) =>
          filters.every(
            (f) => f.Key !== 'name' || (f.Values ?? []).some((prefix) => s.name.startsWith(prefix)),
          ),
        )
        .sort((a, b) => a.name.localeCompare(b.name));
      const page = all.slice(start, start + max).map((s) => {
        const { VersionIdsToStages, ...rest } = this.describe(s);
        return { ...rest, SecretVersionsToStages: VersionIdsToStages };
      });
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return { SecretList: page, ...(next ? { NextToken: next } : {}) };
    },

    TagResource: (input) => {
      const s = this.find(input, true);
      for (const t of this.readTags(input)) {
        s.tags = s.tags.filter((x) => x.Key !== t.Key).concat(t);
      }
      this.onChange();
      return {};
    },

    UntagResource: (input) => {
      const s = this.find(input, true);
      const keys = Array.isArray(input.TagKeys) ? (input.TagKeys as string[]) : [];
      s.tags = s.tags.filter((t) => !keys.includes(t.Key));
      this.onChange();
      return {};
    },
  };
}

/** Encrypted, atomically written state file plus its key (the local stand-in for a KMS key). */
class EncryptedFile {
  private readonly dataPath: string;
  private readonly key: Buffer;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.dataPath = path.join(dir, SECRETS_DATA_FILE);
    const keyPath = path.join(dir, SECRETS_KEY_FILE);
    if (existsSync(keyPath)) {
      this.key = readFileSync(keyPath);
      if (this.key.length !== 32) throw new Error(`${keyPath} must hold exactly 32 bytes`);
    } else {
      if (existsSync(this.dataPath)) {
        throw new Error(
          `${this.dataPath} exists but its key ${SECRETS_KEY_FILE} is missing; the secrets cannot be read`,
        );
      }
      this.key = randomBytes(32);
      writeAtomically(keyPath, this.key);
    }
  }

  load(): Secret[] {
    if (!existsSync(this.dataPath)) return [];
    const file = JSON.parse(readFileSync(this.dataPath, 'utf8')) as {
      v: number;
      iv: string;
      tag: string;
      data: string;
    };
    if (file.v !== 1) throw new Error(`${this.dataPath}: unsupported format version ${String(file.v)}`);
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(file.iv, 'base64'));
    decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
    // A wrong key or a tampered file fails here (GCM authentication), never with garbage.
    const plain = Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Secret[];
  }

  save(secrets: Secret[]): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const file = {
      v: 1,
      alg: 'AES-256-GCM',
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writeAtomically(this.dataPath, JSON.stringify(file));
  }
}

/** Temp file + rename: a crash leaves either the old or the new file, never half of one. */
function writeAtomically(target: string, content: string | Buffer): void {
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, target);
}

/** Reads the region from a SigV4 Authorization header (`Credential=AKID/date/<region>/service/...`). */
function regionOf(req: http.IncomingMessage): string | undefined {
  return /Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Starts the Secrets Manager stand-in on 127.0.0.1.
 *
 * @example
 * const sm = await startSecretsManager({ port: 0, dataDir: '.x-channel/secrets' });
 * const client = new SecretsManagerClient({ endpoint: sm.endpoint, region: 'us-east-1', credentials });
 * await sm.stop();
 */
export async function startSecretsManager(
  options: SecretsManagerOptions = {},
): Promise<SecretsManagerStandIn> {
  const file = options.dataDir ? new EncryptedFile(options.dataDir) : undefined;
  const store: SecretStore = new SecretStore(options.region ?? 'us-east-1', () =>
    file?.save([...store.secrets.values()]),
  );
  for (const s of file?.load() ?? []) store.secrets.set(s.name, s);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
        });
        res.end(JSON.stringify(body));
      };
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = target.startsWith('secretsmanager.')
          ? store.ops[target.slice('secretsmanager.'.length)]
          : undefined;
        if (req.method !== 'POST' || !op) {
          throw new AwsError(
            'UnknownOperationException',
            `Unknown operation ${target || '(no x-amz-target)'}.`,
          );
        }
        if (size > MAX_BODY_BYTES) throw new AwsError('InvalidRequestException', 'Request body too large.');
        let input: unknown;
        try {
          input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          throw new AwsError('SerializationException', 'The request body is not valid JSON.');
        }
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          throw new AwsError('SerializationException', 'The request body must be a JSON object.');
        }
        send(200, op(input as Input, regionOf(req)));
      } catch (e) {
        if (e instanceof AwsError) send(400, { __type: e.type, message: e.message });
        // Unexpected failures answer without detail: an internal message could quote a secret value.
        else
          send(500, {
            __type: 'InternalServiceError',
            message: 'An internal error occurred in the stand-in.',
          });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
