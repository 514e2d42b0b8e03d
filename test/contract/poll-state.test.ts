/**
 * The `PollStateStore` port's contract (core/inbound/types.ts), run against the inbound unit tests'
 * fake (test/unit/inbound/fakes.ts `FakeChannelState`) and the DynamoDB adapter on DynamoDB Local
 * (real SDK v3 client): the claim as the poll lease, its hand-back, the conditional checkpoint move
 * and the 429 block that only moves later.
 */
import { createDynamoChannelStore } from '../../adapters/aws/dynamo-channel-store';
import { createDynamoPollState } from '../../adapters/aws/dynamo-poll-state';
import type { Channel } from '../../core/channel';
import type { ChannelError } from '../../core/errors';
import type { PollStateStore } from '../../core/inbound/types';
import type { ChannelStore } from '../../core/ports';
import { FakeClock, makeChannel } from '../helpers/fakes';
import { startLocalAws, type LocalAws } from '../helpers/local-aws';
import { FakeChannelState } from '../unit/inbound/fakes';

type Stores = { state: PollStateStore; channels: ChannelStore };
/** Builds the stores with `channel` stored and in the due index. */
type Make = (clock: FakeClock, channel: Channel) => Promise<Stores>;

const ENDPOINT = 'GET /2/users/:id/mentions';

export function describePollStateStore(name: string, make: Make) {
  describe(`PollStateStore contract: ${name}`, () => {
    let clock: FakeClock;
    let run = 0;
    let id: string;
    let s: Stores;
    const leaseUntil = () => new Date(clock.now().getTime() + 120_000).toISOString();
    beforeEach(async () => {
      run++;
      id = `ch-${name.replace(/\W/g, '')}-${run}`;
      clock = new FakeClock('2026-09-01T10:00:00Z');
      s = await make(clock, makeChannel({ id }));
      clock.advanceMs(5_000); // the channel is due
    });

    it('peeks an unknown channel as null, a new active one as due and unclaimed', async () => {
      expect(await s.state.peekDue(`${id}-unknown`)).toBeNull();
      const peek = await s.state.peekDue(id);
      expect(peek?.owner).toBeNull();
      expect(Date.parse(peek!.dueAt!)).toBeLessThanOrEqual(clock.now().getTime());
    });

    it('a claim at the due time seen takes the lease; another job is then refused (lease_held), the same job not', async () => {
      // Prepare
      const seenDueAt = (await s.state.peekDue(id))!.dueAt!;
      // Act
      const first = await s.state.claimPoll(id, { owner: 'job-1', seenDueAt, leaseUntil: leaseUntil() });
      const other = await s.state.claimPoll(id, { owner: 'job-2', seenDueAt, leaseUntil: leaseUntil() });
      const redelivery = await s.state.claimPoll(id, { owner: 'job-1', seenDueAt, leaseUntil: leaseUntil() });
      // Assess
      expect(first).toMatchObject({
        channel: { id, checkpoints: makeChannel().checkpoints },
        dueAt: seenDueAt,
      });
      expect(other).toEqual({ refused: 'lease_held' });
      expect(redelivery).toMatchObject({ dueAt: seenDueAt });
      expect(await s.state.peekDue(id)).toEqual({ dueAt: leaseUntil(), owner: 'job-1' });
    });

    it('a claim with a due time that is not the stored one is refused (not_due); a paused channel is not_pollable', async () => {
      // Act
      const stale = await s.state.claimPoll(id, {
        owner: 'job-1',
        seenDueAt: '2020-01-01T00:00:00.000Z',
        leaseUntil: leaseUntil(),
      });
      const channel = (await s.channels.get(id))!;
      await s.channels.update(id, channel.version, { status: 'paused' });
      const paused = await s.state.claimPoll(id, {
        owner: 'job-1',
        seenDueAt: '2020-01-01T00:00:00.000Z',
        leaseUntil: leaseUntil(),
      });
      // Assess
      expect(stale).toEqual({ refused: 'not_due' });
      expect(paused).toEqual({ refused: 'not_pollable' });
      expect((await s.state.peekDue(id))?.dueAt).toBeNull();
    });

    it('releasePoll hands the claim back only for its owner', async () => {
      // Prepare
      const seenDueAt = (await s.state.peekDue(id))!.dueAt!;
      await s.state.claimPoll(id, { owner: 'job-1', seenDueAt, leaseUntil: leaseUntil() });
      // Act
      await s.state.releasePoll(id, 'job-2', seenDueAt);
      const afterOther = await s.state.peekDue(id);
      await s.state.releasePoll(id, 'job-1', seenDueAt);
      // Assess
      expect(afterOther).toEqual({ dueAt: leaseUntil(), owner: 'job-1' });
      expect(await s.state.peekDue(id)).toEqual({ dueAt: seenDueAt, owner: null });
    });

    it('finishPoll moves the checkpoints from the expected ones and ends the claim; stale expectations are a retryable conflict', async () => {
      // Prepare
      const seenDueAt = (await s.state.peekDue(id))!.dueAt!;
      const claim = await s.state.claimPoll(id, { owner: 'job-1', seenDueAt, leaseUntil: leaseUntil() });
      if ('refused' in claim) throw new Error(`claim refused: ${claim.refused}`);
      const expected = claim.channel.checkpoints;
      const next = { ...expected, mentionsSinceId: '1001' };
      const nextPollAt = new Date(clock.now().getTime() + 60_000).toISOString();
      const health = { lastPollAt: clock.now().toISOString(), nextPollAt };
      // Act
      await s.state.finishPoll(id, { owner: 'job-1', expected, next, health, nextPollAt });
      let conflict: ChannelError | undefined;
      await s.state
        .finishPoll(id, {
          owner: 'job-1',
          expected,
          next: { ...expected, mentionsSinceId: '999' },
          health,
          nextPollAt,
        })
        .catch((e: ChannelError) => (conflict = e));
      // Assess
      expect((await s.channels.get(id))?.checkpoints.mentionsSinceId).toBe('1001');
      expect(await s.state.peekDue(id)).toEqual({ dueAt: nextPollAt, owner: null });
      expect(conflict).toMatchObject({ kind: 'retryable', code: 'conflict' });
    });

    it('blockEndpoint only ever moves a block later', async () => {
      // Act
      await s.state.blockEndpoint(id, ENDPOINT, '2026-09-01T10:15:00.000Z');
      await s.state.blockEndpoint(id, ENDPOINT, '2026-09-01T10:05:00.000Z');
      const kept = (await s.channels.get(id))?.health.notBefore[ENDPOINT];
      await s.state.blockEndpoint(id, ENDPOINT, '2026-09-01T10:30:00.000Z');
      // Assess
      expect(kept).toBe('2026-09-01T10:15:00.000Z');
      expect((await s.channels.get(id))?.health.notBefore[ENDPOINT]).toBe('2026-09-01T10:30:00.000Z');
    });
  });
}

describePollStateStore('in-memory fake', async (clock, channel) => {
  const fake = new FakeChannelState(channel, clock);
  return { state: fake, channels: fake };
});

let aws: LocalAws;
beforeAll(async () => {
  aws = await startLocalAws();
});
afterAll(() => aws.stop());

describePollStateStore('DynamoDB', async (clock, channel) => {
  const options = { client: aws.clients.doc, tableName: aws.tableName, clock };
  const channels = createDynamoChannelStore(options);
  await channels.create(channel);
  return { state: createDynamoPollState(options), channels };
});
