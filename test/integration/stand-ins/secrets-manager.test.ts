/**
 * Secrets Manager stand-in conformance through the real @aws-sdk/client-secrets-manager: every
 * operation x-channel uses, version stages, AWS error names, and encrypted persistence.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  SECRETS_DATA_FILE,
  SECRETS_KEY_FILE,
  startSecretsManager,
  type SecretsManagerStandIn,
} from '../../../stand-ins/secrets-manager';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientFor = (endpoint: string) =>
  new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
const uid = () => randomBytes(4).toString('hex');

let stand: SecretsManagerStandIn;
let sm: SecretsManagerClient;
beforeAll(async () => {
  stand = await startSecretsManager({ port: 0 });
  sm = clientFor(stand.endpoint);
});
afterAll(async () => {
  sm.destroy();
  await stand.stop();
});

describe('Secrets Manager stand-in through the real client', () => {
  it('creates a secret with an AWS-shaped ARN and reads it by name and by ARN', async () => {
    const name = `x-channel/channel/${uid()}`;
    const created = await sm.send(
      new CreateSecretCommand({ Name: name, SecretString: '{"refreshToken":"r1"}' }),
    );
    const byName = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));

    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:eu-west-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`),
    );
    expect(byName).toMatchObject({
      Name: name,
      SecretString: '{"refreshToken":"r1"}',
      VersionStages: ['AWSCURRENT'],
    });
    expect(byName.VersionId).toBe(created.VersionId);
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    expect(byArn.SecretString).toBe(byName.SecretString);
  });

  it('moves AWSCURRENT to AWSPREVIOUS on a new value and serves both stages and version ids', async () => {
    const name = `s-${uid()}`;
    const v1 = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'two' }));
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'three' }));

    const current = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    const byVersion = await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v2.VersionId }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));

    expect(v3.VersionStages).toEqual(['AWSCURRENT']);
    expect(current.SecretString).toBe('three');
    expect(previous.SecretString).toBe('two');
    expect(byVersion).toMatchObject({ SecretString: 'two', VersionStages: ['AWSPREVIOUS'] });
    // Version one lost its last stage and is gone, as AWS deprecates unlabelled versions.
    expect(described.VersionIdsToStages).toEqual({
      [v2.VersionId!]: ['AWSPREVIOUS'],
      [v3.VersionId!]: ['AWSCURRENT'],
    });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1.VersionId })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('treats a retried PutSecretValue with the same token as one version', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'a' }));
    const token = `tok-${uid()}-${uid()}-${uid()}-${uid()}`;
    const first = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }),
    );
    const retry = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }),
    );
    const clash = sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'c', ClientRequestToken: token }),
    );

    expect(retry.VersionId).toBe(first.VersionId);
    await expect(clash).rejects.toMatchObject({ name: 'ResourceExistsException' });
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })))
        .SecretString,
    ).toBe('a');
  });

  it('updates description and value with UpdateSecret and keeps binary secrets as bytes', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretBinary: new Uint8Array([1, 2, 3]) }));
    await sm.send(
      new UpdateSecretCommand({ SecretId: name, Description: 'app credentials', SecretString: 'text now' }),
    );
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );

    expect(described.Description).toBe('app credentials');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('text now');
    expect(Array.from(previous.SecretBinary ?? [])).toEqual([1, 2, 3]);
  });

  it('answers AWS error names for missing, duplicate and invalid requests', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));

    await expect(sm.send(new GetSecretValueCommand({ SecretId: `missing-${uid()}` }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(sm.send(new CreateSecretCommand({ Name: name, SecretString: 'y' }))).rejects.toMatchObject({
      name: 'ResourceExistsException',
    });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      sm.send(
        new CreateSecretCommand({ Name: `s-${uid()}`, SecretString: 'a', SecretBinary: new Uint8Array([1]) }),
      ),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/SecretString or SecretBinary/),
    });
    await expect(
      sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 3 })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/RecoveryWindowInDays/),
    });
    await expect(
      sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringMatching(/^Name/),
    });
  });

  it('schedules deletion with a recovery window: reads then fail with InvalidRequestException until restored', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'keep me' }));
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    const read = sm.send(new GetSecretValueCommand({ SecretId: name }));
    const recreate = sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    const listed = await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [name] }] }));

    expect(deleted.DeletionDate!.getTime() - Date.now()).toBeGreaterThan(6 * 86400 * 1000);
    expect(described.DeletedDate).toBeInstanceOf(Date);
    await expect(read).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(recreate).rejects.toMatchObject({ name: 'InvalidRequestException' });
    expect(listed.SecretList).toEqual([]);

    await sm.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('keep me');
  });

  it('deletes at once with ForceDeleteWithoutRecovery, freeing the name', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'gone' }));
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));

    await expect(sm.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: 'again' })),
    ).resolves.toMatchObject({ Name: name });
  });

  it('lists secrets by name prefix with paging, and tags them', async () => {
    const prefix = `list-${uid()}/`;
    for (const n of ['a', 'b', 'c'])
      await sm.send(new CreateSecretCommand({ Name: prefix + n, SecretString: n }));
    await sm.send(
      new TagResourceCommand({ SecretId: prefix + 'a', Tags: [{ Key: 'channel', Value: '42' }] }),
    );

    const page1 = await sm.send(
      new ListSecretsCommand({ MaxResults: 2, Filters: [{ Key: 'name', Values: [prefix] }] }),
    );
    const page2 = await sm.send(
      new ListSecretsCommand({
        MaxResults: 2,
        NextToken: page1.NextToken,
        Filters: [{ Key: 'name', Values: [prefix] }],
      }),
    );

    expect(page1.SecretList?.map((s) => s.Name)).toEqual([prefix + 'a', prefix + 'b']);
    expect(page1.SecretList?.[0]?.Tags).toEqual([{ Key: 'channel', Value: '42' }]);
    expect(page2.SecretList?.map((s) => s.Name)).toEqual([prefix + 'c']);
    expect(page2.NextToken).toBeUndefined();
    // A listing never carries secret values.
    expect(JSON.stringify(page1)).not.toMatch(/SecretString/);
  });
});

describe('Secrets Manager persistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xc-sm-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart, encrypted at rest with a 0600 key file, and never leaves temp files', async () => {
    const canary = `canary-refresh-token-${uid()}`;
    const first = await startSecretsManager({ port: 0, dataDir: dir });
    const c1 = clientFor(first.endpoint);
    const created = await c1.send(
      new CreateSecretCommand({ Name: 'x-channel/channel/1', SecretString: canary }),
    );
    await c1.send(
      new PutSecretValueCommand({ SecretId: 'x-channel/channel/1', SecretString: `${canary}-2` }),
    );
    c1.destroy();
    await first.stop();

    const onDisk = readFileSync(path.join(dir, SECRETS_DATA_FILE), 'utf8');
    const keyMode = statSync(path.join(dir, SECRETS_KEY_FILE)).mode & 0o777;
    const second = await startSecretsManager({ port: 0, dataDir: dir });
    const c2 = clientFor(second.endpoint);
    try {
      const current = await c2.send(new GetSecretValueCommand({ SecretId: created.ARN }));
      const previous = await c2.send(
        new GetSecretValueCommand({ SecretId: 'x-channel/channel/1', VersionStage: 'AWSPREVIOUS' }),
      );

      expect(onDisk).not.toContain(canary);
      expect(onDisk).not.toContain('x-channel/channel/1');
      expect(JSON.parse(onDisk)).toMatchObject({ v: 1, alg: 'AES-256-GCM' });
      expect(keyMode).toBe(0o600);
      expect(readdirSync(dir).sort()).toEqual([SECRETS_DATA_FILE, SECRETS_KEY_FILE].sort());
      expect(current.SecretString).toBe(`${canary}-2`);
      expect(previous.SecretString).toBe(canary);
    } finally {
      c2.destroy();
      await second.stop();
    }
  });

  it('refuses to start when the data file exists but its key is gone', async () => {
    const s = await startSecretsManager({ port: 0, dataDir: dir });
    const c = clientFor(s.endpoint);
    await c.send(new CreateSecretCommand({ Name: 'n', SecretString: 'v' }));
    c.destroy();
    await s.stop();
    rmSync(path.join(dir, SECRETS_KEY_FILE));

    await expect(startSecretsManager({ port: 0, dataDir: dir })).rejects.toThrow(/key .* is missing/);
  });
});
