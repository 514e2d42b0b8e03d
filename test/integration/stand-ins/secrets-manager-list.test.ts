/**
 * `ListSecrets` of the Secrets Manager stand-in through the real client: the filters as AWS's `Filter`
 * reference describes them (prefix or word match, case rules, `!` negation), sort order, paging and
 * `InvalidNextTokenException`. Each test lists under a name prefix of its own.
 */
import {
  CreateSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  type Filter,
  type ListSecretsCommandInput,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { startSecretsManager, type SecretsManagerStandIn } from '../../../stand-ins/secrets-manager';

const credentials = {
  accessKeyId: 'AKIDSECRETSTEST',
  secretAccessKey: randomBytes(30).toString('base64url'),
};
const uid = () => randomBytes(4).toString('hex');

let stand: SecretsManagerStandIn;
let sm: SecretsManagerClient;
let prefix: string;
beforeAll(async () => {
  stand = await startSecretsManager({ port: 0, credentials });
  sm = new SecretsManagerClient({
    endpoint: stand.endpoint,
    region: 'eu-west-1',
    credentials,
    maxAttempts: 1,
  });
  // One set of secrets for the filter tests, created in this order (CreatedDate ascending).
  prefix = `lst${uid()}/`;
  const specs: Array<[string, string | undefined, Array<[string, string]>]> = [
    [
      'channel/alpha',
      'Token of the Alpha channel',
      [
        ['team', 'care'],
        ['env', 'prod'],
      ],
    ],
    ['channel/beta', 'token for BETA', [['team', 'sales']]],
    ['xApp', 'X app credentials', [['env', 'dev']]],
    ['Other', undefined, []],
  ];
  for (const [name, Description, tags] of specs) {
    await sm.send(
      new CreateSecretCommand({
        Name: prefix + name,
        SecretString: 's',
        ...(Description ? { Description } : {}),
        Tags: tags.map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
});
afterAll(async () => {
  sm.destroy();
  await stand.stop();
});

/** Names (without the test prefix) listed for `filters`, within this file's secrets. */
async function names(filters: Filter[], extra: Partial<ListSecretsCommandInput> = {}): Promise<string[]> {
  const out = await sm.send(
    new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }, ...filters], ...extra }),
  );
  return (out.SecretList ?? []).map((s) => s.Name!.slice(prefix.length));
}

describe('ListSecrets filters', () => {
  it('name: prefix, case-sensitive; several values are alternatives', async () => {
    expect(await names([{ Key: 'name', Values: [`${prefix}channel/`] }])).toEqual([
      'channel/alpha',
      'channel/beta',
    ]);
    expect(await names([{ Key: 'name', Values: [`${prefix}CHANNEL`] }])).toEqual([]);
    expect(await names([{ Key: 'name', Values: [`${prefix}x`, `${prefix}O`] }])).toEqual(['xApp', 'Other']);
    // Not a substring match: the middle of a name does not count.
    expect(await names([{ Key: 'name', Values: ['alpha'] }])).toEqual([]);
  });

  it('! negates a value', async () => {
    expect(await names([{ Key: 'name', Values: [`!${prefix}channel`] }])).toEqual(['xApp', 'Other']);
    expect(await names([{ Key: 'tag-key', Values: ['!env'] }])).toEqual(['channel/beta', 'Other']);
  });

  it('description: words, not case-sensitive, every word must begin a word of the description', async () => {
    expect(await names([{ Key: 'description', Values: ['token'] }])).toEqual([
      'channel/alpha',
      'channel/beta',
    ]);
    expect(await names([{ Key: 'description', Values: ['beta TOK'] }])).toEqual(['channel/beta']);
    expect(await names([{ Key: 'description', Values: ['alpha channel'] }])).toEqual(['channel/alpha']);
    expect(await names([{ Key: 'description', Values: ['oken'] }])).toEqual([]);
  });

  it('tag-key and tag-value: prefix, case-sensitive', async () => {
    expect(await names([{ Key: 'tag-key', Values: ['te'] }])).toEqual(['channel/alpha', 'channel/beta']);
    expect(await names([{ Key: 'tag-value', Values: ['pro'] }])).toEqual(['channel/alpha']);
    expect(await names([{ Key: 'tag-value', Values: ['PROD'] }])).toEqual([]);
  });

  it('filters combine with AND', async () => {
    expect(
      await names([
        { Key: 'tag-key', Values: ['env'] },
        { Key: 'tag-value', Values: ['dev'] },
      ]),
    ).toEqual(['xApp']);
  });

  it('primary-region: the region the secret was created in', async () => {
    expect(await names([{ Key: 'primary-region', Values: ['eu-'] }])).toHaveLength(4);
    expect(await names([{ Key: 'primary-region', Values: ['us-east-1'] }])).toEqual([]);
  });

  it('all: words in name, description, tag keys and values, not case-sensitive', async () => {
    expect(await names([{ Key: 'all', Values: ['SALES'] }])).toEqual(['channel/beta']);
    expect(await names([{ Key: 'all', Values: ['app'] }])).toEqual(['xApp']); // xApp → x, App
    expect(await names([{ Key: 'all', Values: ['other'] }])).toEqual(['Other']);
    expect(await names([{ Key: 'all', Values: ['!care'] }])).toEqual(['channel/beta', 'xApp', 'Other']);
  });

  it('refuses a filter AWS refuses', async () => {
    await expect(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['bad*value'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'colour' as 'name', Values: ['x'] }] })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/Key/) });
  });
});

describe('ListSecrets order and paging', () => {
  it('lists by CreatedDate, ascending unless SortOrder is desc; SortBy name sorts by name', async () => {
    expect(await names([])).toEqual(['channel/alpha', 'channel/beta', 'xApp', 'Other']);
    expect(await names([], { SortOrder: 'desc' })).toEqual([
      'Other',
      'xApp',
      'channel/beta',
      'channel/alpha',
    ]);
    expect(await names([], { SortBy: 'name' })).toEqual(['Other', 'channel/alpha', 'channel/beta', 'xApp']);
  });

  it('pages with MaxResults and NextToken; a token is bound to its listing', async () => {
    const page1 = await sm.send(
      new ListSecretsCommand({ MaxResults: 3, Filters: [{ Key: 'name', Values: [prefix] }] }),
    );
    const page2 = await sm.send(
      new ListSecretsCommand({
        MaxResults: 3,
        NextToken: page1.NextToken,
        Filters: [{ Key: 'name', Values: [prefix] }],
      }),
    );
    expect(page1.SecretList).toHaveLength(3);
    expect(page1.SecretList?.[0]).toMatchObject({
      Name: `${prefix}channel/alpha`,
      Description: 'Token of the Alpha channel',
      PrimaryRegion: 'eu-west-1',
    });
    expect(page2.SecretList?.map((s) => s.Name)).toEqual([`${prefix}Other`]);
    expect(page2.NextToken).toBeUndefined();

    for (const NextToken of ['garbage', Buffer.from('3.x').toString('base64url')]) {
      await expect(sm.send(new ListSecretsCommand({ NextToken }))).rejects.toMatchObject({
        name: 'InvalidNextTokenException',
      });
    }
    // The token of one listing is not valid for another.
    await expect(
      sm.send(new ListSecretsCommand({ NextToken: page1.NextToken, SortOrder: 'desc' })),
    ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    await expect(sm.send(new ListSecretsCommand({ MaxResults: 101 }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});
