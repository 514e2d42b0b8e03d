/**
 * The Secrets Manager stand-in's state on disk (stand-ins/secrets-manager-file.ts), through the real
 * client: encrypted at rest, the key outside the data directory (a key file or XC_LOCAL_SECRETS_KEY),
 * clear errors when the key is missing or wrong, and the migration of a format-1 data directory
 * whose key lay beside its data.
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { createCipheriv, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  keyId,
  LEGACY_SECRETS_KEY_FILE,
  SECRETS_DATA_FILE,
  startSecretsManager,
} from '../../../stand-ins/secrets-manager';

const credentials = {
  accessKeyId: 'AKIDSECRETSTEST',
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const clientFor = (endpoint: string) =>
  new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
const uid = () => randomBytes(4).toString('hex');

let root: string;
let dir: string;
let keysDir: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'xc-sm-'));
  dir = path.join(root, 'data', 'secrets');
  keysDir = path.join(root, 'config', 'x-channel', 'secrets-keys');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Starts a stand-in on `dir`, runs `fn` with a client, stops both. */
async function withStandIn<T>(
  options: { key?: string },
  fn: (c: SecretsManagerClient) => Promise<T>,
): Promise<T> {
  const s = await startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials, ...options });
  const c = clientFor(s.endpoint);
  try {
    return await fn(c);
  } finally {
    c.destroy();
    await s.stop();
  }
}

describe('Secrets Manager persistence', () => {
  it('survives a restart, encrypted at rest, its 0600 key file outside the data directory, no temp files', async () => {
    const canary = `canary-refresh-token-${uid()}`;
    const created = await withStandIn({}, async (c1) => {
      const out = await c1.send(
        new CreateSecretCommand({ Name: 'x-channel/channel/1', SecretString: canary }),
      );
      await c1.send(
        new PutSecretValueCommand({ SecretId: 'x-channel/channel/1', SecretString: `${canary}-2` }),
      );
      return out;
    });

    const onDisk = readFileSync(path.join(dir, SECRETS_DATA_FILE), 'utf8');
    const keyFiles = readdirSync(keysDir);
    await withStandIn({}, async (c2) => {
      const current = await c2.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      const previous = await c2.send(
        new GetSecretValueCommand({ SecretId: 'x-channel/channel/1', VersionStage: 'AWSPREVIOUS' }),
      );
      expect(current.SecretString).toBe(`${canary}-2`);
      expect(previous.SecretString).toBe(canary);
    });

    expect(onDisk).not.toContain(canary);
    expect(onDisk).not.toContain('x-channel/channel/1');
    const header = JSON.parse(onDisk) as { v: number; alg: string; kid: string };
    expect(header).toMatchObject({ v: 2, alg: 'AES-256-GCM' });
    // Nothing but the ciphertext in the data directory; the key is a 0600 file in a 0700 directory.
    expect(readdirSync(dir)).toEqual([SECRETS_DATA_FILE]);
    expect(keyFiles).toEqual([`${header.kid}.key`]);
    const key = readFileSync(path.join(keysDir, keyFiles[0]));
    expect(key).toHaveLength(32);
    expect(keyId(key)).toBe(header.kid);
    expect(statSync(path.join(keysDir, keyFiles[0])).mode & 0o777).toBe(0o600);
    expect(statSync(keysDir).mode & 0o777).toBe(0o700);
    expect(onDisk).not.toContain(key.toString('base64'));
  });

  it('refuses to start when the key file is gone, naming the file and the way out', async () => {
    await withStandIn({}, (c) => c.send(new CreateSecretCommand({ Name: 'n', SecretString: 'v' })));
    for (const f of readdirSync(keysDir)) rmSync(path.join(keysDir, f));

    await expect(startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials })).rejects.toThrow(
      /key of .*secrets\.enc\.json \(.*secrets-keys\/[0-9a-f]{16}\.key\) is missing.*XC_LOCAL_SECRETS_KEY/,
    );
  });

  it('takes the key from XC_LOCAL_SECRETS_KEY (the key option) without writing a key file, and refuses another key', async () => {
    const key = randomBytes(32).toString('hex');
    await withStandIn({ key }, (c) => c.send(new CreateSecretCommand({ Name: 'n', SecretString: 'v' })));
    expect(existsSync(keysDir)).toBe(false);
    await withStandIn({ key: Buffer.from(key, 'hex').toString('base64') }, async (c) => {
      expect((await c.send(new GetSecretValueCommand({ SecretId: 'n' }))).SecretString).toBe('v');
    });

    const other = randomBytes(32).toString('hex');
    const refused = startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials, key: other });
    await expect(refused).rejects.toThrow(
      /was encrypted with key [0-9a-f]{16}, but XC_LOCAL_SECRETS_KEY holds key/,
    );
    await expect(
      startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials, key: 'short' }),
    ).rejects.toThrow(/XC_LOCAL_SECRETS_KEY must be a 32-byte key/);
    // The bad value itself is never echoed.
    await expect(
      startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials, key: 'short' }),
    ).rejects.not.toThrow(/short/);
  });

  it('refuses a key directory inside the data directory', async () => {
    await expect(
      startSecretsManager({ port: 0, dataDir: dir, keysDir: path.join(dir, 'keys'), credentials }),
    ).rejects.toThrow(/must be outside the data directory/);
  });

  it('migrates a data directory whose key lay beside its data (format 1): key moved out, data kept', async () => {
    // A format-1 directory as the previous stand-in wrote it.
    const legacyKey = randomBytes(32);
    const versionId = 'v1-0000-0000-0000-000000000000000000';
    const secrets = [
      {
        name: 'x-channel/x-app',
        arn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x-channel/x-app-AbCdEf',
        tags: [],
        createdDate: 1,
        lastChangedDate: 1,
        versions: { [versionId]: { secretString: 'app-secret', stages: ['AWSCURRENT'], createdDate: 1 } },
      },
    ];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', legacyKey, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, LEGACY_SECRETS_KEY_FILE), legacyKey, { mode: 0o600 });
    writeFileSync(
      path.join(dir, SECRETS_DATA_FILE),
      JSON.stringify({
        v: 1,
        alg: 'AES-256-GCM',
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      }),
    );

    const s = await startSecretsManager({ port: 0, dataDir: dir, keysDir, credentials });
    const c = clientFor(s.endpoint);
    try {
      expect(s.migration).toMatch(
        /secrets key moved out of the data directory to .*secrets-keys\/[0-9a-f]{16}\.key/,
      );
      expect((await c.send(new GetSecretValueCommand({ SecretId: 'x-channel/x-app' }))).SecretString).toBe(
        'app-secret',
      );
    } finally {
      c.destroy();
      await s.stop();
    }
    expect(readdirSync(dir)).toEqual([SECRETS_DATA_FILE]);
    expect(readdirSync(keysDir)).toEqual([`${keyId(legacyKey)}.key`]);
    expect(JSON.parse(readFileSync(path.join(dir, SECRETS_DATA_FILE), 'utf8'))).toMatchObject({
      v: 2,
      kid: keyId(legacyKey),
    });
    // And the migrated directory starts again without a notice.
    await withStandIn({}, async (c2) => {
      expect((await c2.send(new GetSecretValueCommand({ SecretId: 'x-channel/x-app' }))).SecretString).toBe(
        'app-secret',
      );
    });
  });
});
