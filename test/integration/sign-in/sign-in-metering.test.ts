/**
 * The sign-in's `GET /2/users/me` is a user read X bills ($0.01, X-API.md §4): the spend meter counts it
 * on the channel being signed in, also when the sign-in is then refused (the read was made and billed),
 * and the meter agrees with the simulated X's own bill.
 */
import { createDynamoSpendLedger } from '../../../adapters/aws/dynamo-spend';
import { sumDays } from '../../../core/cost/meter';
import { createChannel, signIn, startWorld, type World } from './harness';

let w: World;
beforeAll(async () => {
  w = await startWorld();
});
afterAll(() => w.stop());

it('meters users/me at sign-in on the channel, like X bills it', async () => {
  const ledger = createDynamoSpendLedger({ client: w.aws.clients.doc, tableName: w.aws.tableName });
  const month = w.deps.clock.now().toISOString().slice(0, 7);
  w.sim.createUser({ username: 'meter_help', name: 'Meter Help' });
  w.sim.createUser({ username: 'meter_other', name: 'Meter Other' });
  const c = await createChannel(w);
  const before = w.sim.billing();

  const first = await signIn(w, c.id, 'meter_help');
  expect(first.res.status).toBe(200);
  let spent = sumDays(await ledger.days(c.id, month));
  expect(spent.counts).toEqual({ userRead: 1 });
  expect(spent.micros).toBe(10_000);

  // the next day, signed in as another account: X answers users/me (billed), we refuse with 409
  w.advance(86_400_000);
  const refused = await signIn(w, c.id, 'meter_other');
  expect(refused.res.status).toBe(409);
  spent = sumDays(await ledger.days(c.id, month));
  expect(spent.counts).toEqual({ userRead: 2 });

  const bill = w.sim.billing();
  expect(bill.reads.users - before.reads.users).toBe(2);
  expect(spent.micros).toBe(Math.round((bill.costUsd - before.costUsd) * 1_000_000));
});
