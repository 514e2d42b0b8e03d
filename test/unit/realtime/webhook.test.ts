/**
 * One verified delivery through core: parse, route by account, map, publish through the delivered
 * ledger (one message per channel and item, whichever path brought it), `oauth.revoke` → needs_reauth.
 */
import { createLedgerPublisher } from '../../../core/inbound/delivered';
import { mentionToInbound } from '../../../core/inbound/mapping';
import {
  deliverEvents,
  parseWebhookBody,
  REVOKED_REASON,
  type WebhookDeps,
} from '../../../core/realtime/webhook';
import { FakeDeliveredLedger } from '../../helpers/fakes/delivered-ledger';
import {
  ACCOUNT_ID,
  chatEvent,
  dmEvent,
  envelope,
  mentionEvent,
  revokeEvent,
} from '../../helpers/xaa-events';
import { FakeChannelState, FakeClock, FakeInbound, INBOUND_T0, makeChannel } from '../inbound/fakes';

function world(over: Parameters<typeof makeChannel>[0] = {}) {
  const clock = new FakeClock(INBOUND_T0);
  const store = new FakeChannelState(
    makeChannel({
      id: 'ch1',
      account: { id: ACCOUNT_ID, username: 'acme', name: 'Acme', avatarUrl: null },
      ...over,
    }),
    clock,
  );
  const inbound = new FakeInbound();
  const ledger = new FakeDeliveredLedger(clock);
  const claims = new Map([[ACCOUNT_ID, ['ch1']]]);
  const deps: WebhookDeps = {
    accounts: { channelIdsFor: async (id) => claims.get(id) ?? [] },
    channels: store,
    publisher: createLedgerPublisher({ ledger, publisher: inbound, clock }),
    clock,
  };
  const deliver = (body: unknown) => {
    const parsed = parseWebhookBody(JSON.stringify(body));
    if (!parsed.ok) throw new Error(parsed.error);
    return deliverEvents(deps, parsed.value);
  };
  return { clock, store, inbound, ledger, deps, deliver };
}

describe('deliverEvents', () => {
  it('publishes a mention, a DM and a chat to the account’s channel', async () => {
    // Prepare
    const w = world();
    // Act
    await w.deliver(mentionEvent('101'));
    await w.deliver(dmEvent('102'));
    const report = await w.deliver(chatEvent('c103'));
    // Assess
    expect(w.inbound.received.map((m) => m.id)).toEqual(['x:tweet:101', 'x:dm:102', 'x:chat:c103']);
    expect(w.inbound.received.every((m) => m.channelId === 'ch1')).toBe(true);
    expect(report).toMatchObject({ events: 1, published: 1, duplicates: 0, unroutable: 0 });
  });

  it('publishes a duplicate delivery once, also days later within the ledger’s TTL', async () => {
    const w = world();
    await w.deliver(mentionEvent('201'));
    w.clock.advanceMs(3 * 24 * 3600_000);
    const again = await w.deliver(mentionEvent('201'));
    expect(again).toMatchObject({ published: 0, duplicates: 1 });
    expect(w.inbound.sends).toBe(1);
  });

  it('publishes once a post that is both a mention and a reply (two events, one item)', async () => {
    const w = world();
    await w.deliver({ data: [mentionEvent('202').data, mentionEvent('202', {}, 'post.reply.create').data] });
    expect(w.inbound.sends).toBe(1);
  });

  it('leaves out what a poll already published for the channel', async () => {
    // Prepare: the poller published the mention through the same ledger
    const w = world();
    const polled = mentionToInbound(
      { id: '203', text: 'hey @acme', author_id: '2000', conversation_id: '203' },
      {},
      {
        channelId: 'ch1',
        account: { id: ACCOUNT_ID, username: 'acme' },
        receivedAt: w.clock.now().toISOString(),
      },
    );
    await w.deps.publisher.publish([polled]);
    // Act
    const report = await w.deliver(mentionEvent('203'));
    // Assess
    expect(report).toMatchObject({ published: 0, duplicates: 1 });
    expect(w.inbound.sends).toBe(1);
  });

  it('acknowledges and counts an account no channel holds', async () => {
    const w = world();
    const body = mentionEvent('301');
    body.data.filter = { user_id: '9999' };
    expect(await w.deliver(body)).toMatchObject({ unroutable: 1, published: 0 });
    expect(w.inbound.sends).toBe(0);
  });

  it('routes nowhere when the claimed channel now holds another account', async () => {
    const w = world({ account: { id: '4444', username: 'other', name: 'Other', avatarUrl: null } });
    expect(await w.deliver(mentionEvent('302'))).toMatchObject({ unroutable: 1 });
  });

  it('acknowledges and counts unknown event types and unreadable payloads', async () => {
    const w = world();
    const seen: string[] = [];
    const parsed = parseWebhookBody(
      JSON.stringify({
        data: [
          envelope('follow.follow', {}).data,
          envelope('follow.follow', {}).data,
          envelope('dm.received', { nope: 1 }).data,
        ],
      }),
    );
    if (!parsed.ok) throw new Error(parsed.error);
    const report = await deliverEvents(w.deps, parsed.value, (i) =>
      seen.push(`${i.eventType}: ${i.problem}`),
    );
    expect(report).toMatchObject({ unknownTypes: { 'follow.follow': 2 }, malformed: { 'dm.received': 1 } });
    expect(seen[0]).toMatch(/^dm\.received: payload\.direct_message_events/);
  });

  it('counts what a channel’s switches leave out', async () => {
    const w = world({ listenDms: false });
    const report = await w.deliver(dmEvent('401'));
    expect(report).toMatchObject({ published: 0, skipped: { switch_off: 1 } });
  });

  it('puts the channel in needs_reauth on oauth.revoke', async () => {
    const w = world();
    const report = await w.deliver(revokeEvent());
    expect(report.revoked).toBe(1);
    expect(w.store.channel).toMatchObject({ status: 'needs_reauth', statusReason: REVOKED_REASON });
  });

  it('fails (so the caller answers 5xx) when the publish fails, and records nothing', async () => {
    const w = world();
    w.inbound.failOnCall = 0;
    await expect(w.deliver(mentionEvent('501'))).rejects.toMatchObject({ kind: 'retryable' });
    expect(w.ledger.entries.size).toBe(0);
    // X's redelivery then publishes it
    await w.deliver(mentionEvent('501'));
    expect(w.inbound.received.map((m) => m.id)).toEqual(['x:tweet:501']);
  });
});

describe('parseWebhookBody', () => {
  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['no data', '{"x":1}', /data/],
    ['no event_type', '{"data":{"payload":{}}}', /event_type/],
    [
      'a non-numeric filter.user_id',
      '{"data":{"event_type":"post.mention.create","filter":{"user_id":"me"}}}',
      /filter\.user_id/,
    ],
  ])('refuses %s, naming what is wrong', (_label, raw, problem) => {
    const parsed = parseWebhookBody(raw);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(problem);
  });
});
