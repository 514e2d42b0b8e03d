/**
 * DynamoDB Local (from test/global-setup.ts) through the real clients, on a table made by
 * startLocalAws() with the project's layout: the behaviours the stores rely on.
 */
import { DescribeTimeToLiveCommand, type TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LIST_INDEX, TTL_ATTRIBUTE } from '../../../adapters/aws/table';
import { startLocalAws, type LocalAws } from '../../helpers/local-aws';

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describe('DynamoDB Local through the real clients', () => {
  it('fails a conditional put on an existing item with ConditionalCheckFailedException and the old item', async () => {
    const item = { pk: 'CH#c1', sk: 'CHANNEL', status: 'active' };
    await aws.clients.doc.send(
      new PutCommand({
        TableName: aws.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

    const again = aws.clients.doc.send(
      new PutCommand({
        TableName: aws.tableName,
        Item: { ...item, status: 'paused' },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );

    await expect(again).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const err = (await again.catch((e: unknown) => e)) as { Item?: Record<string, unknown> };
    expect(unmarshall(err.Item as never)).toEqual(item);
  });

  it('cancels a transaction as a whole and says which item failed', async () => {
    await aws.clients.doc.send(
      new PutCommand({ TableName: aws.tableName, Item: { pk: 'CH#c2', sk: 'LEASE#refresh', owner: 'a' } }),
    );

    const tx = aws.clients.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: aws.tableName, Item: { pk: 'CH#c2', sk: 'CHANNEL', status: 'active' } } },
          {
            Put: {
              TableName: aws.tableName,
              Item: { pk: 'CH#c2', sk: 'LEASE#refresh', owner: 'b' },
              ConditionExpression: 'attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
    );

    const err = (await tx.catch((e: unknown) => e)) as TransactionCanceledException;
    const written = await aws.clients.doc.send(
      new GetCommand({ TableName: aws.tableName, Key: { pk: 'CH#c2', sk: 'CHANNEL' } }),
    );
    expect(err.name).toBe('TransactionCanceledException');
    expect(err.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed']);
    // lib-dynamodb leaves these raw (LOCAL-STACK.md §1b): unmarshall them yourself.
    expect(unmarshall(err.CancellationReasons![1].Item!)).toEqual({
      pk: 'CH#c2',
      sk: 'LEASE#refresh',
      owner: 'a',
    });
    expect(written.Item).toBeUndefined();
  });

  it('queries a GSI in sort order', async () => {
    for (const [id, at] of [
      ['c3', '2026-01-02'],
      ['c4', '2026-01-03'],
      ['c5', '2026-01-01'],
    ]) {
      await aws.clients.doc.send(
        new PutCommand({
          TableName: aws.tableName,
          Item: { pk: `CH#${id}`, sk: 'CHANNEL', gsi2pk: 'CHANNEL', gsi2sk: at, id },
        }),
      );
    }

    const out = await aws.clients.doc.send(
      new QueryCommand({
        TableName: aws.tableName,
        IndexName: LIST_INDEX,
        KeyConditionExpression: 'gsi2pk = :p',
        ExpressionAttributeValues: { ':p': 'CHANNEL' },
        ScanIndexForward: false,
      }),
    );

    expect(out.Items?.map((i) => i.id)).toEqual(['c4', 'c3', 'c5']);
  });

  it('has TTL enabled on the table attribute', async () => {
    const out = await aws.clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: aws.tableName }));

    expect(out.TimeToLiveDescription).toEqual({ AttributeName: TTL_ATTRIBUTE, TimeToLiveStatus: 'ENABLED' });
  });
});
