/**
 * Secrets Manager stand-in conformance through the real @aws-sdk/client-secrets-manager: every
 * operation x-channel uses, version stages and `ClientRequestToken` idempotency as the API reference
 * documents them, AWS error names, and the request guard. `ListSecrets` is in
 * secrets-manager-list.test.ts, persistence in secrets-manager-persistence.test.ts.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes, randomUUID } from 'node:crypto';
import { startSecretsManager, type SecretsManagerStandIn } from '../../../stand-ins/secrets-manager';

const credentials = {
  accessKeyId: 'AKIDSECRETSTEST',
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const clientFor = (endpoint: string) =>
  new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
const uid = () => randomBytes(4).toString('hex');

let stand: SecretsManagerStandIn;
let sm: SecretsManagerClient;
beforeAll(async () => {
  stand = await startSecretsManager({ port: 0, credentials });
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
    // Version one lost its last stage: deprecated, so left out of VersionIdsToStages as AWS does,
    // but kept and still readable by its id (AWS removes deprecated versions only beyond ~100).
    expect(described.VersionIdsToStages).toEqual({
      [v2.VersionId!]: ['AWSPREVIOUS'],
      [v3.VersionId!]: ['AWSCURRENT'],
    });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1.VersionId })),
    ).resolves.toMatchObject({ SecretString: 'one', VersionStages: [] });
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

  it('keeps AWSCURRENT where it is when a late PutSecretValue retry with an old token arrives', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0' }));
    const t1 = randomUUID();
    const v1 = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v1', ClientRequestToken: t1 }),
    );
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    const v3 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v3' }));

    // The first call's retry, after two newer values: v1 is deprecated by now, and stays so.
    const retry = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v1', ClientRequestToken: t1 }),
    );
    const current = await sm.send(new GetSecretValueCommand({ SecretId: name }));
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));

    expect(retry).toMatchObject({ VersionId: v1.VersionId, VersionStages: [] });
    expect(current).toMatchObject({ VersionId: v3.VersionId, SecretString: 'v3' });
    expect(described.VersionIdsToStages?.[v3.VersionId!]).toEqual(['AWSCURRENT']);
    expect(described.VersionIdsToStages).not.toHaveProperty(v1.VersionId!);
    await expect(
      sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: t1 })),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
  });

  it('answers a retried CreateSecret (same token, same value) with the same secret and version', async () => {
    const name = `s-${uid()}`;
    const token = randomUUID();
    const first = await sm.send(
      new CreateSecretCommand({ Name: name, SecretString: 'app', ClientRequestToken: token }),
    );
    const retry = await sm.send(
      new CreateSecretCommand({ Name: name, SecretString: 'app', ClientRequestToken: token }),
    );

    expect(retry).toMatchObject({ ARN: first.ARN, Name: name, VersionId: token });
    expect(first.VersionId).toBe(token);
    await expect(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: 'other', ClientRequestToken: token })),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
    await expect(
      sm.send(new CreateSecretCommand({ Name: name, SecretString: 'app', ClientRequestToken: randomUUID() })),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [token]: ['AWSCURRENT'] });
  });

  it('treats a retried UpdateSecret with the same token as one version', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'a' }));
    const token = randomUUID();
    await sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }));
    await sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'b', ClientRequestToken: token }));

    const previous = await sm.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous.SecretString).toBe('a');
    await expect(
      sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: 'c', ClientRequestToken: token })),
    ).rejects.toMatchObject({ name: 'ResourceExistsException' });
  });

  it('labels a version with custom stages without moving AWSCURRENT', async () => {
    const name = `s-${uid()}`;
    const v1 = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'live' }));
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'next', VersionStages: ['AWSPENDING'] }),
    );

    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('live');
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPENDING' }))).SecretString,
    ).toBe('next');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages).toEqual({
      [v1.VersionId!]: ['AWSCURRENT'],
      [pending.VersionId!]: ['AWSPENDING'],
    });
  });

  it('keeps at most 100 versions, dropping the oldest deprecated ones first', async () => {
    const name = `s-${uid()}`;
    const first = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v0' }));
    const second = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v1' }));
    const third = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));
    for (let i = 3; i <= 100; i++) {
      await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: `v${i}` }));
    }
    // 101 versions were written: the oldest deprecated one is gone, the next one is still there.
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: first.VersionId })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: second.VersionId })),
    ).resolves.toMatchObject({ SecretString: 'v1', VersionStages: [] });
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v101' }));
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: second.VersionId })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(
      (await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: third.VersionId }))).SecretString,
    ).toBe('v2');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe('v101');
  });

  it('UpdateSecretVersionStage removes AWSPREVIOUS (the version stays readable by id only) and moves AWSCURRENT with AWSPREVIOUS along', async () => {
    // Prepare: v1 AWSPREVIOUS, v2 AWSCURRENT
    const name = `s-${uid()}`;
    const v1 = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'old' }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'new' }));
    const stages = async () =>
      (await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages;
    // Act: remove AWSPREVIOUS from v1
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSPREVIOUS',
          RemoveFromVersionId: v1.VersionId,
        }),
      ),
    ).resolves.toMatchObject({ Name: name });
    // Assess
    expect(await stages()).toEqual({ [v2.VersionId!]: ['AWSCURRENT'] });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v1.VersionId })),
    ).resolves.toMatchObject({ SecretString: 'old', VersionStages: [] });

    // Moving AWSCURRENT back to v1 must name its holder, and hands AWSPREVIOUS to v2.
    await expect(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: v1.VersionId,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v1.VersionId,
        RemoveFromVersionId: v2.VersionId,
      }),
    );
    expect(await stages()).toEqual({ [v1.VersionId!]: ['AWSCURRENT'], [v2.VersionId!]: ['AWSPREVIOUS'] });
  });

  it('UpdateSecretVersionStage refuses what AWS refuses', async () => {
    const name = `s-${uid()}`;
    const v1 = await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'a' }));
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'b' }));
    const update = (
      input: Omit<ConstructorParameters<typeof UpdateSecretVersionStageCommand>[0], 'SecretId'>,
    ) => sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, ...input }));
    // AWSCURRENT can be moved, never just removed.
    await expect(
      update({ VersionStage: 'AWSCURRENT', RemoveFromVersionId: v2.VersionId }),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    // The label is not on that version.
    await expect(
      update({ VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: v2.VersionId }),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    // An unknown version.
    await expect(
      update({ VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: randomUUID() }),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // Nothing to do.
    await expect(update({ VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    expect((await sm.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages).toEqual({
      [v1.VersionId!]: ['AWSPREVIOUS'],
      [v2.VersionId!]: ['AWSCURRENT'],
    });
  });

  it('answers UnknownOperationException for operations x-channel never calls', async () => {
    const name = `s-${uid()}`;
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
    await expect(sm.send(new ListSecretVersionIdsCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });
    await expect(sm.send(new RotateSecretCommand({ SecretId: name }))).rejects.toMatchObject({
      name: 'UnknownOperationException',
    });
  });
});

describe('Secrets Manager stand-in refuses what AWS refuses before the service', () => {
  it('refuses a client signing with another secret key, and one with another key id', async () => {
    const wrongSecret = new SecretsManagerClient({
      endpoint: stand.endpoint,
      region: 'eu-west-1',
      credentials: { ...credentials, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const wrongId = new SecretsManagerClient({
      endpoint: stand.endpoint,
      region: 'eu-west-1',
      credentials: { ...credentials, accessKeyId: 'AKIDNOTTHEONE' },
      maxAttempts: 1,
    });
    try {
      await expect(wrongSecret.send(new ListSecretsCommand({}))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
      await expect(wrongId.send(new ListSecretsCommand({}))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
    } finally {
      wrongSecret.destroy();
      wrongId.destroy();
    }
  });

  it('refuses an unsigned request and one addressed to a foreign Host', async () => {
    const unsigned = await fetch(stand.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: JSON.stringify({ SecretId: 'x-channel/x-app' }),
    });
    expect(unsigned.status).toBe(400);
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });

    // A signed request whose Host is a rebound DNS name, as a web page would send it.
    const client = new SecretsManagerClient({
      endpoint: stand.endpoint,
      region: 'eu-west-1',
      credentials,
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers.host = 'attacker.example';
        return next(args);
      },
      { step: 'build', priority: 'low' },
    );
    try {
      await expect(client.send(new ListSecretsCommand({}))).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      client.destroy();
    }
  });
});
