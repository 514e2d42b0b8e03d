/**
 * The health route also shows X's app-wide write budgets (DMs and posts per UTC day, shared by every
 * channel of a deployment), so an admin can see when one busy channel spent the day's DMs.
 */
import { createDynamoAppBudget } from '../../../adapters/aws/dynamo-app-budget';
import { createChannel, startWorld, type World } from './harness';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.stop());

describe('GET /channels/{id}/health: app-wide budgets', () => {
  it('reports the DM and post windows with what the sender used', async () => {
    const { id } = await createChannel(w);
    const now = w.deps.clock.now();
    const budget = createDynamoAppBudget({
      client: w.aws.clients.doc,
      tableName: w.aws.tableName,
      limits: { dm: 2 },
    });
    await budget.take('dm', now);
    await budget.take('dm', now);

    const res = await w.api({ method: 'GET', path: `/channels/${id}/health` });
    expect(res.status).toBe(200);
    expect(res.body.appBudgets.dm).toMatchObject({ name: 'dm', limit: 2, used: 2, remaining: 0 });
    expect(res.body.appBudgets.post).toMatchObject({ name: 'post', used: 0 });
    expect(Date.parse(res.body.appBudgets.dm.windowEndsAt)).toBeGreaterThan(now.getTime());
  });
});
