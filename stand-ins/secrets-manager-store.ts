/**
 * The Secrets Manager stand-in's state and operations (the HTTP server is secrets-manager.ts,
 * persistence secrets-manager-file.ts). Behaviour follows the API reference
 * where x-channel or a consumer can see it:
 * - Versions and staging labels: a new AWSCURRENT demotes the old one to AWSPREVIOUS; a version
 *   that loses its last label is *deprecated*, not deleted: still readable by `VersionId`, left out of
 *   `VersionIdsToStages`, and dropped (oldest first) only when a secret holds more than 100 versions.
 * - `ClientRequestToken` is the version id and makes writes idempotent: the same token with the same
 *   value is a no-op that answers the existing version (its labels untouched, so a late retry never
 *   moves AWSCURRENT back); the same token with another value is `ResourceExistsException`. A
 *   retried `CreateSecret` (same name, token and value) succeeds the same way.
 * - `UpdateSecretVersionStage` moves or removes a label with AWS's checks (the current holder must be
 *   named; AWSCURRENT only moves, taking AWSPREVIOUS along).
 * - Deletion with a recovery window; ARNs with a 6-character suffix; epoch-second timestamps.
 * `ListSecrets` is secrets-manager-list.ts, wired into `ops` by the server (it imports this file).
 * Secret values never appear in error messages.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { AwsError } from './aws-json-server';

export const ACCOUNT_ID = '000000000000';
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const MAX_SECRET_BYTES = 65536;
/** AWS keeps about 100 versions of a secret, removing deprecated ones beyond that. */
export const MAX_VERSIONS = 100;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

export interface Version {
  secretString?: string;
  /** base64, as on the wire */
  secretBinary?: string;
  stages: string[];
  createdDate: number;
}

export interface Secret {
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
export { AwsError };

export type Input = Record<string, unknown>;
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

type Value = Pick<Version, 'secretString' | 'secretBinary'>;

/** Reads the secret value fields of a request; exactly one of them, or none when `optional`. */
function readValue(input: Input, optional: boolean): Value | undefined {
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

function readStages(input: Input): string[] {
  const stages = input.VersionStages ?? [CURRENT];
  if (
    !Array.isArray(stages) ||
    stages.length < 1 ||
    stages.length > 20 ||
    stages.some((x) => typeof x !== 'string' || x.length < 1 || x.length > 256)
  ) {
    throw new AwsError(
      'InvalidParameterException',
      'VersionStages must be a list of 1 to 20 labels of 1 to 256 characters.',
    );
  }
  return [...new Set(stages as string[])];
}

const sameValue = (v: Version, value: Value) =>
  v.secretString === value.secretString && v.secretBinary === value.secretBinary;

/** The labelled versions, as `VersionIdsToStages`/`SecretVersionsToStages` show them. */
export const labelledVersions = (s: Secret) =>
  Object.fromEntries(
    Object.entries(s.versions)
      .filter(([, v]) => v.stages.length > 0)
      .map(([id, v]) => [id, v.stages]),
  );

/** The region in a secret's ARN: its primary region (the stand-in does not replicate). */
export const regionOfArn = (arn: string) => arn.split(':')[3];

/** The in-memory store and the operations; persistence is plugged in through `onChange`. */
export class SecretStore {
  secrets = new Map<string, Secret>();

  constructor(
    private readonly defaultRegion: string,
    private readonly onChange: () => void,
  ) {}

  /** Drops secrets whose recovery window has ended, as AWS does in the background. */
  /** Every secret not yet purged (those in their recovery window included), for `ListSecrets`. */
  liveSecrets(): Secret[] {
    this.purgeExpired();
    return [...this.secrets.values()];
  }

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

  /**
   * Writes version `id` with `stages`, or recognises a retry: an existing `id` with the same value
   * changes nothing (false is returned), with another value it is refused, as AWS does.
   */
  private putVersion(s: Secret, id: string, value: Value, stages: string[]): boolean {
    const existing = s.versions[id];
    if (existing) {
      if (sameValue(existing, value)) return false;
      throw new AwsError(
        'ResourceExistsException',
        `A version with VersionId ${id} already exists with different content; a version can't be modified.`,
      );
    }
    const previousCurrent = Object.entries(s.versions).find(([, v]) => v.stages.includes(CURRENT))?.[0];
    for (const v of Object.values(s.versions)) v.stages = v.stages.filter((st) => !stages.includes(st));
    if (stages.includes(CURRENT) && previousCurrent) {
      for (const v of Object.values(s.versions)) v.stages = v.stages.filter((st) => st !== PREVIOUS);
      s.versions[previousCurrent].stages.push(PREVIOUS);
    }
    s.versions[id] = { ...value, stages: [...stages], createdDate: nowSeconds() };
    // Deprecated (unlabelled) versions stay until the secret holds more than MAX_VERSIONS.
    const deprecated = Object.entries(s.versions)
      .filter(([, v]) => v.stages.length === 0)
      .sort(([, a], [, b]) => a.createdDate - b.createdDate);
    let excess = Object.keys(s.versions).length - MAX_VERSIONS;
    for (const [vid] of deprecated) if (excess-- > 0) delete s.versions[vid];
    s.lastChangedDate = nowSeconds();
    return true;
  }

  describe(s: Secret) {
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
      VersionIdsToStages: labelledVersions(s),
      PrimaryRegion: regionOfArn(s.arn),
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
      const value = readValue(input, true);
      const versionId = value ? versionToken(input) : undefined;
      const existing = this.secrets.get(name);
      if (existing?.deletedDate !== undefined) {
        throw new AwsError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      if (existing) {
        // A retry of the call that created it: same token, same value → the same answer.
        const version = versionId ? existing.versions[versionId] : undefined;
        if (version && value && sameValue(version, value)) {
          return { ARN: existing.arn, Name: existing.name, VersionId: versionId };
        }
        throw new AwsError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      }
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
      if (value && versionId) this.putVersion(s, versionId, value, [CURRENT]);
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
      const stages = readStages(input);
      if (this.putVersion(s, id, value, stages)) this.onChange();
      return { ARN: s.arn, Name: s.name, VersionId: id, VersionStages: s.versions[id].stages };
    },

    UpdateSecret: (input) => {
      const s = this.find(input);
      const description = str(input, 'Description');
      const kmsKeyId = str(input, 'KmsKeyId');
      const value = readValue(input, true);
      const id = value ? versionToken(input) : undefined;
      if (value && id) this.putVersion(s, id, value, [CURRENT]);
      if (description !== undefined) s.description = description;
      if (kmsKeyId !== undefined) s.kmsKeyId = kmsKeyId;
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

    /**
     * Moves a staging label to `MoveToVersionId` and/or removes it from `RemoveFromVersionId`. A label
     * on another version must be named in `RemoveFromVersionId`; AWSCURRENT can only be moved, never just
     * removed, and moving it hands AWSPREVIOUS to the version it left. A version left without labels is
     * deprecated (still readable by `VersionId`), as after a put.
     */
    UpdateSecretVersionStage: (input) => {
      const s = this.find(input);
      const stage = str(input, 'VersionStage', true);
      const moveTo = str(input, 'MoveToVersionId');
      const removeFrom = str(input, 'RemoveFromVersionId');
      if (stage.length < 1 || stage.length > 256) {
        throw new AwsError('InvalidParameterException', 'VersionStage must be 1 to 256 characters.');
      }
      if (moveTo === undefined && removeFrom === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          'You must specify MoveToVersionId, RemoveFromVersionId or both.',
        );
      }
      for (const id of [moveTo, removeFrom]) {
        if (id !== undefined && !s.versions[id]) {
          throw new AwsError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${id}`,
          );
        }
      }
      const holder = Object.entries(s.versions).find(([, v]) => v.stages.includes(stage))?.[0];
      if (removeFrom !== undefined && holder !== removeFrom) {
        throw new AwsError(
          'InvalidParameterException',
          `Staging label ${stage} is not attached to version ${removeFrom}.`,
        );
      }
      if (holder !== undefined && holder !== moveTo && removeFrom === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      }
      if (stage === CURRENT && moveTo === undefined) {
        throw new AwsError(
          'InvalidParameterException',
          `You can only move staging label ${CURRENT} to a different secret version. It can't be completely removed.`,
        );
      }
      if (holder === moveTo) return { ARN: s.arn, Name: s.name };
      if (holder !== undefined)
        s.versions[holder].stages = s.versions[holder].stages.filter((x) => x !== stage);
      if (moveTo !== undefined) {
        s.versions[moveTo].stages.push(stage);
        if (stage === CURRENT && holder !== undefined) {
          for (const v of Object.values(s.versions)) v.stages = v.stages.filter((x) => x !== PREVIOUS);
          s.versions[holder].stages.push(PREVIOUS);
        }
      }
      s.lastChangedDate = nowSeconds();
      this.onChange();
      return { ARN: s.arn, Name: s.name };
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
