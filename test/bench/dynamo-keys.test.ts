/**
 * The spend meter's own DynamoDB requests as the bench counts them (bench/dynamo-keys.ts): a request
 * on spend items alone is the meter's; its charges riding on a poll's final write are not.
 */
import { isMeterOnly, keysOf } from '../../bench/dynamo-keys';

describe('the meter-only classification of DynamoDB requests', () => {
  it('reads the partition keys of each request shape, marshalled or not', () => {
    expect(
      keysOf('TransactWriteItemsCommand', {
        TransactItems: [
          { Update: { Key: { pk: { S: 'CH#ch_1' }, sk: { S: 'CHANNEL' } } } },
          { Update: { Key: { pk: { S: 'COST#ch_1' }, sk: { S: 'D#2026-09-01' } } } },
          { Put: { Item: { pk: { S: 'SEEN#2026-09-01#p:1' }, sk: { S: 'SEEN' } } } },
        ],
      }),
    ).toEqual(['CH#ch_1', 'COST#ch_1', 'SEEN#2026-09-01#p:1']);
    expect(
      keysOf('BatchGetItemCommand', {
        RequestItems: {
          t: {
            Keys: [
              { pk: 'COST#ch_1', sk: 'SETTINGS' },
              { pk: 'COSTAPP', sk: 'SETTINGS' },
            ],
          },
        },
      }),
    ).toEqual(['COST#ch_1', 'COSTAPP']);
    expect(
      keysOf('BatchWriteItemCommand', {
        RequestItems: {
          t: [{ PutRequest: { Item: { pk: 'COSTAPP#3' } } }, { DeleteRequest: { Key: { pk: 'X' } } }],
        },
      }),
    ).toEqual(['COSTAPP#3', 'X']);
    expect(keysOf('UpdateItemCommand', { Key: { pk: 'COST#ch_1', sk: 'M#2026-09' } })).toEqual(['COST#ch_1']);
    expect(keysOf('QueryCommand', { ExpressionAttributeValues: { ':pk': 'COST#ch_1' } })).toEqual([
      'COST#ch_1',
    ]);
    expect(keysOf('QueryCommand', { IndexName: 'due' })).toEqual(['index:due']);
    expect(keysOf('GetItemCommand', {})).toEqual(['?']);
  });

  it("counts a request as the meter's only when every key is a spend item", () => {
    expect(isMeterOnly(['COST#ch_1', 'COSTAPP#3', 'SEEN#2026-09-01#p:1'])).toBe(true);
    expect(isMeterOnly(['COST#ch_1', 'COSTAPP', ...Array(17).fill('COSTAPP#0')])).toBe(true);
    // the poll's final write with the meter riding on it
    expect(isMeterOnly(['CH#ch_1', 'COST#ch_1', 'SEEN#2026-09-01#p:1'])).toBe(false);
    expect(isMeterOnly(['CH#ch_1'])).toBe(false);
    expect(isMeterOnly(['?'])).toBe(false);
    expect(isMeterOnly([])).toBe(false);
  });
});
