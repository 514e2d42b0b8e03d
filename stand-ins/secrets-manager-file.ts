/**
 * The Secrets Manager stand-in's state on disk: one AES-256-GCM encrypted file in the data
 * directory, rewritten atomically after every change. Its 32-byte key (the local stand-in for the
 * KMS key that protects secrets in AWS) never sits beside it:
 * - `XC_LOCAL_SECRETS_KEY` (64 hex digits or base64 of 32 bytes) when set, else
 * - a key file `<keysDir>/<key id>.key` (directory 0700, file 0600), by default under the user's
 *   configuration directory (`$XC_LOCAL_SECRETS_KEYS_DIR`, else `$XDG_CONFIG_HOME/x-channel/secrets-keys`,
 *   else `~/.config/x-channel/secrets-keys`), created with the data directory's first secret.
 * The data file names its key by id (a hash of the key, not the key), so a moved data directory still
 * finds its key, and a wrong one is named in the error instead of failing as "bad data".
 *
 * A data directory from before (format 1, key in `secrets/secrets.key`) is migrated on start: the
 * key moves to the key file, the data is rewritten in format 2, and `migration` says where it went.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Secret } from './secrets-manager-store';

/** File names inside `dataDir`. */
export const SECRETS_DATA_FILE = 'secrets.enc.json';
/** Where format 1 kept the key, beside the data: only read to migrate it away. */
export const LEGACY_SECRETS_KEY_FILE = 'secrets.key';
export const SECRETS_KEY_ENV = 'XC_LOCAL_SECRETS_KEY';

interface DataFile {
  v: 1 | 2;
  alg: 'AES-256-GCM';
  /** Format 2: the id of the key it is encrypted with ({@link keyId}). */
  kid?: string;
  iv: string;
  tag: string;
  data: string;
}

/** Where key files go unless told otherwise: the user's configuration directory. */
export function defaultKeysDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XC_LOCAL_SECRETS_KEYS_DIR) return path.resolve(env.XC_LOCAL_SECRETS_KEYS_DIR);
  const config = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(config, 'x-channel', 'secrets-keys');
}

/** A key's public name: it says which key encrypted a file without saying anything about the key. */
export const keyId = (key: Buffer) =>
  createHash('sha256').update('x-channel local secrets key id\0').update(key).digest('hex').slice(0, 16);

/** Reads `XC_LOCAL_SECRETS_KEY`; the message names the variable, never its value. */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new Error(
      `${SECRETS_KEY_ENV} must be a 32-byte key as 64 hex digits or base64 (e.g. the output of \`openssl rand -hex 32\`)`,
    );
  }
  return key;
}

/** Temp file + rename: a crash leaves either the old or the new file, never half of one. */
export function writeAtomically(target: string, content: string | Buffer): void {
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, target);
}

const inside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** Options of {@link EncryptedFile}. */
export interface EncryptedFileOptions {
  dataDir: string;
  /** The key itself (as `XC_LOCAL_SECRETS_KEY` spells it); wins over key files. */
  key?: string;
  /** Directory of key files; must be outside `dataDir`. @default defaultKeysDir() */
  keysDir?: string;
}

/** Encrypted, atomically written state file; its key comes from outside the data directory. */
export class EncryptedFile {
  private readonly dataPath: string;
  private readonly key: Buffer;
  /** Set when a format-1 data directory was migrated: what happened, for the operator. */
  readonly migration?: string;
  private pending?: Secret[];

  constructor(options: EncryptedFileOptions) {
    const dataDir = path.resolve(options.dataDir);
    const keysDir = path.resolve(options.keysDir ?? defaultKeysDir());
    if (inside(keysDir, dataDir)) {
      throw new Error(`the secrets key directory ${keysDir} must be outside the data directory ${dataDir}`);
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.dataPath = path.join(dataDir, SECRETS_DATA_FILE);
    const legacyKeyPath = path.join(dataDir, LEGACY_SECRETS_KEY_FILE);
    const file = existsSync(this.dataPath)
      ? (JSON.parse(readFileSync(this.dataPath, 'utf8')) as DataFile)
      : undefined;
    if (file && file.v !== 1 && file.v !== 2) {
      throw new Error(`${this.dataPath}: unsupported format version ${String(file.v)}`);
    }
    const given = options.key !== undefined ? parseKey(options.key) : undefined;
    const keyFile = (id: string) => path.join(keysDir, `${id}.key`);
    const writeKeyFile = (key: Buffer) => {
      mkdirSync(keysDir, { recursive: true, mode: 0o700 });
      writeAtomically(keyFile(keyId(key)), key);
      return keyFile(keyId(key));
    };

    if (file?.v === 1 || (!file && existsSync(legacyKeyPath))) {
      // Format 1: the key lies beside the data. Read the data with it, then move the key out.
      if (!existsSync(legacyKeyPath)) {
        throw new Error(
          `${this.dataPath} exists but its key ${legacyKeyPath} is missing; the secrets cannot be read. Delete ${this.dataPath} to start with no secrets.`,
        );
      }
      const legacyKey = readFileSync(legacyKeyPath);
      if (legacyKey.length !== 32) throw new Error(`${legacyKeyPath} must hold exactly 32 bytes`);
      this.pending = file ? decrypt(file, legacyKey, this.dataPath) : [];
      this.key = given ?? legacyKey;
      const where = given ? SECRETS_KEY_ENV : writeKeyFile(legacyKey);
      this.save(this.pending);
      rmSync(legacyKeyPath);
      this.migration = `the secrets key moved out of the data directory to ${where}; ${this.dataPath} is re-encrypted`;
      return;
    }

    if (file) {
      const kid = file.kid ?? '';
      if (given) {
        if (keyId(given) !== kid) {
          throw new Error(
            `${this.dataPath} was encrypted with key ${kid}, but ${SECRETS_KEY_ENV} holds key ${keyId(given)}. Set it to the key the file was written with, or unset it to use ${keyFile(kid)}; or delete ${this.dataPath} to start with no secrets.`,
          );
        }
        this.key = given;
      } else {
        if (!existsSync(keyFile(kid))) {
          throw new Error(
            `the key of ${this.dataPath} (${keyFile(kid)}) is missing; the secrets cannot be read. Restore that file or set ${SECRETS_KEY_ENV} to the key, or delete ${this.dataPath} to start with no secrets.`,
          );
        }
        this.key = readFileSync(keyFile(kid));
        if (this.key.length !== 32 || keyId(this.key) !== kid) {
          throw new Error(`${keyFile(kid)} is not the 32-byte key ${kid}`);
        }
      }
      this.pending = decrypt(file, this.key, this.dataPath);
      return;
    }

    // A new data directory: a new key, recorded at once so the file names it from the start.
    this.key = given ?? randomBytes(32);
    if (!given) writeKeyFile(this.key);
    this.pending = [];
    this.save([]);
  }

  /** The secrets read at start (once). */
  load(): Secret[] {
    const secrets = this.pending ?? [];
    this.pending = undefined;
    return secrets;
  }

  save(secrets: Secret[]): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const file: DataFile = {
      v: 2,
      alg: 'AES-256-GCM',
      kid: keyId(this.key),
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    writeAtomically(this.dataPath, JSON.stringify(file));
  }
}

function decrypt(file: DataFile, key: Buffer, where: string): Secret[] {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(file.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(file.tag, 'base64'));
  try {
    // A wrong key or a tampered file fails here (GCM authentication), never with garbage.
    const plain = Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Secret[];
  } catch {
    throw new Error(`${where} cannot be decrypted with its key (wrong key or a damaged file)`);
  }
}
