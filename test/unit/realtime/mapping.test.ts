/**
 * XAA events → inbound v1: the same message polling produces for the same item (issue 16 §3), the
 * account's own items never fed back, XChat as an `encrypted` DM, unknown types recognised as such.
 */
import { inboundMessageSchema } from '../../../contracts';
import { dmToInbound, mentionToInbound } from '../../../core/inbound/mapping';
import { xaaBodySchema, type XaaEvent } from '../../../core/realtime/events';
import { classifyEvent, messagesFor, type ClassifiedEvent } from '../../../core/realtime/mapping';
import { makeChannel } from '../inbound/fakes';
import {
  ACCOUNT_ID,
  CUSTOMER,
  chatEvent,
  dmEvent,
  envelope,
  mentionEvent,
  revokeEvent,
} from '../../helpers/xaa-events';

const RECEIVED_AT = '2026-07-24T21:23:24.000Z';
const channel = makeChannel({
  id: 'ch1',
  account: { id: ACCOUNT_ID, username: 'acme', name: 'Acme', avatarUrl: null },
});
const ctx = { channelId: 'ch1', account: { id: ACCOUNT_ID, username: 'acme' }, receivedAt: RECEIVED_AT };

const eventOf = (body: unknown): XaaEvent => {
  return xaaBodySchema.parse(body).data;
};
type Deliverable = Extract<ClassifiedEvent, { type: 'mention' | 'dm' | 'chat' }>;
const deliverable = (body: unknown): Deliverable => {
  const c = classifyEvent(eventOf(body));
  if (c.type !== 'mention' && c.type !== 'dm' && c.type !== 'chat')
    throw new Error(`not deliverable: ${c.type}`);
  return c;
};
const only = (body: unknown, c = channel) => {
  const out = messagesFor(deliverable(body), c, RECEIVED_AT);
  expect(out.messages).toHaveLength(1);
  return inboundMessageSchema.parse(out.messages[0]);
};

describe('mentions and replies', () => {
  it.each(['post.mention.create', 'post.reply.create'])(
    '%s gives the message the poller gives for the same post',
    (eventType) => {
      // Prepare: the post as XAA delivers it and as GET /2/users/:id/mentions returns it
      const body = mentionEvent(
        '2080765813578191303',
        {
          conversation_id: '2080765813578191300',
          referenced_tweets: [{ type: 'replied_to', id: '2080765813578191300' }],
        },
        eventType,
      );
      const polled = mentionToInbound(
        {
          id: '2080765813578191303',
          text: 'hey @acme',
          author_id: CUSTOMER.id,
          created_at: '2026-07-24T21:23:23.000Z',
          conversation_id: '2080765813578191300',
          referenced_tweets: [{ type: 'replied_to', id: '2080765813578191300' }],
        },
        { users: [CUSTOMER] },
        ctx,
      );
      // Act
      const m = only(body);
      // Assess
      expect(m).toEqual(polled);
      expect(m).toMatchObject({
        id: 'x:tweet:2080765813578191303',
        conversationId: '2080765813578191300',
        author: { id: CUSTOMER.id, username: 'carla', name: 'Carla', avatarUrl: CUSTOMER.profile_image_url },
        replyTo: { kind: 'reply', targetId: '2080765813578191303' },
        inReplyToId: '2080765813578191300',
      });
    },
  );

  it('takes the full text of a long post and users wrapped in `data`', () => {
    const body = mentionEvent('42', { note_tweet: { text: 'a very long post @acme' } });
    (body.data as unknown as { includes: unknown }).includes = { users: [{ data: CUSTOMER }] };
    expect(only(body)).toMatchObject({ text: 'a very long post @acme', author: { username: 'carla' } });
  });

  it('never feeds back the account’s own post', () => {
    const out = messagesFor(deliverable(mentionEvent('43', { author_id: ACCOUNT_ID })), channel, RECEIVED_AT);
    expect(out).toEqual({ messages: [], skipped: ['own'] });
  });

  it('leaves out pure reposts unless the channel asks for them', () => {
    const body = mentionEvent('44', { referenced_tweets: [{ type: 'retweeted', id: '40' }] });
    expect(messagesFor(deliverable(body), channel, RECEIVED_AT)).toEqual({
      messages: [],
      skipped: ['repost'],
    });
    const withReposts = makeChannel({ ...channel, options: { ...channel.options, includeReposts: true } });
    expect(messagesFor(deliverable(body), withReposts, RECEIVED_AT).messages).toHaveLength(1);
  });
});

describe('dm.received', () => {
  it('gives the message the poller gives for the same DM, conversation built as <smaller>-<larger>', () => {
    // Prepare: v1.1 shape without dm_conversation_id; the same DM as GET /2/dm_events returns it
    const polled = dmToInbound(
      {
        id: '2080765901528535096',
        event_type: 'MessageCreate',
        text: 'hello!',
        sender_id: CUSTOMER.id,
        dm_conversation_id: `${ACCOUNT_ID}-${CUSTOMER.id}`,
        created_at: new Date(1784928224372).toISOString(),
      },
      { users: [CUSTOMER] },
      ctx,
    );
    // Act
    const m = only(dmEvent('2080765901528535096'));
    // Assess
    expect(m).toEqual(polled);
    expect(m).toMatchObject({
      id: 'x:dm:2080765901528535096',
      kind: 'dm',
      conversationId: '1000-2000',
      replyTo: { kind: 'dm', targetId: '1000-2000' },
      author: { id: CUSTOMER.id, username: 'carla' },
    });
  });

  it('orders the conversation ids numerically, not as strings', () => {
    const m = only(dmEvent('5', { sender: '999' }));
    expect(m.conversationId).toBe('999-1000');
  });

  it('reads v1.1 users (screen_name, profile_image_url_https) as the AAA shape sends them', () => {
    const body = dmEvent('6', { usersWrapped: false });
    const payload = body.data.payload as { users: Record<string, unknown> };
    payload.users[CUSTOMER.id] = {
      id_str: CUSTOMER.id,
      screen_name: 'carla',
      name: 'Carla',
      profile_image_url_https: 'https://pbs.twimg.com/b.jpg',
    };
    expect(only(body).author).toEqual({
      id: CUSTOMER.id,
      username: 'carla',
      name: 'Carla',
      avatarUrl: 'https://pbs.twimg.com/b.jpg',
    });
  });

  it('maps a v1.1 media attachment', () => {
    const body = dmEvent('7', {
      attachment: {
        type: 'media',
        media: {
          id_str: '99',
          type: 'photo',
          media_url_https: 'https://ton.twitter.com/1.1/ton/data/dm/7/99/a.jpg',
        },
      },
    });
    // mapped as polling maps it (X's ton URL, which the poller then replaces: core/inbound/dm-media.ts)
    const event = deliverable(body);
    if (event.type !== 'dm') throw new Error('not a DM');
    const ctx = {
      channelId: channel.id,
      account: { id: channel.account!.id, username: channel.account!.username },
      receivedAt: RECEIVED_AT,
    };
    expect(dmToInbound(event.events[0], event.includes, ctx).attachments).toEqual([
      { type: 'photo', url: 'https://ton.twitter.com/1.1/ton/data/dm/7/99/a.jpg' },
    ]);
    // the webhook holds no user token to download it: the DM is left to the poller
    expect(messagesFor(event, channel, RECEIVED_AT)).toEqual({ messages: [], skipped: ['media_deferred'] });
  });

  it('never feeds back a DM the account sent', () => {
    const out = messagesFor(
      deliverable(dmEvent('8', { sender: ACCOUNT_ID, recipient: CUSTOMER.id })),
      channel,
      RECEIVED_AT,
    );
    expect(out).toEqual({ messages: [], skipped: ['own'] });
  });
});

describe('chat.received (XChat)', () => {
  it('becomes an encrypted DM: empty text, the sender, the conversation, a DM back to the sender', () => {
    const m = only(chatEvent('e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6'));
    expect(m).toEqual({
      schema: 'x-channel.inbound.v1',
      id: 'x:chat:e4f4d3fc-8bbf-4928-92eb-e5058d6bb6f6',
      channelId: 'ch1',
      account: { id: ACCOUNT_ID, username: 'acme' },
      kind: 'dm',
      conversationId: '1000-2000',
      author: { id: CUSTOMER.id, username: '', name: '', avatarUrl: null },
      text: '',
      createdAt: new Date(1784841183370).toISOString(),
      inReplyToId: null,
      attachments: [],
      replyTo: { kind: 'dm', targetId: CUSTOMER.id },
      receivedAt: RECEIVED_AT,
      encrypted: true,
    });
  });

  it('keeps a group conversation id as X gives it', () => {
    expect(only(chatEvent('c1', { conversationId: 'g1843439638876491776' })).conversationId).toBe(
      'g1843439638876491776',
    );
  });

  it('never feeds back a chat the account sent', () => {
    const out = messagesFor(deliverable(chatEvent('c2', { sender: ACCOUNT_ID })), channel, RECEIVED_AT);
    expect(out).toEqual({ messages: [], skipped: ['own'] });
  });
});

describe('channel switches and status', () => {
  it.each([
    ['mentions off', { listenMentions: false }, mentionEvent('50'), 'switch_off'],
    ['DMs off (dm)', { listenDms: false }, dmEvent('51'), 'switch_off'],
    ['DMs off (chat)', { listenDms: false }, chatEvent('c51'), 'switch_off'],
    ['paused', { status: 'paused' as const }, mentionEvent('52'), 'not_active'],
    ['needs re-auth', { status: 'needs_reauth' as const }, dmEvent('53'), 'not_active'],
  ])('%s → no message', (_label, over, body, reason) => {
    const out = messagesFor(deliverable(body), makeChannel({ ...channel, ...over }), RECEIVED_AT);
    expect(out).toEqual({ messages: [], skipped: [reason] });
  });

  it('a degraded channel still takes messages (as the poller does)', () => {
    expect(only(mentionEvent('54'), makeChannel({ ...channel, status: 'degraded' })).id).toBe('x:tweet:54');
  });
});

describe('classifyEvent', () => {
  it('routes oauth.revoke by payload.user_id (the filter may be empty)', () => {
    expect(classifyEvent(eventOf(revokeEvent('3000')))).toEqual({ type: 'revoke', accountId: '3000' });
  });

  it.each(['follow.follow', 'dm.sent', 'chat.sent', 'profile.update.bio', 'replay_job_status'])(
    'recognises %s as a type it does not handle',
    (eventType) => {
      expect(classifyEvent(eventOf(envelope(eventType, { anything: true })))).toEqual({
        type: 'unknown',
        eventType,
      });
    },
  );

  it.each([
    ['a mention without a post id', mentionEvent('60', { id: undefined }), /payload\.id/],
    ['a mention with a non-numeric author', mentionEvent('61', { author_id: 'abc' }), /payload\.author_id/],
    ['a DM without events', envelope('dm.received', { users: {} }), /payload\.direct_message_events/],
    [
      'a chat without sender',
      envelope('chat.received', { id: 'x', conversation_id: '1:2' }),
      /payload\.sender_id/,
    ],
    [
      'a mention without filter.user_id',
      { data: { ...mentionEvent('62').data, filter: {} } },
      /filter\.user_id/,
    ],
  ])('reports %s as malformed, naming the field', (_label, body, problem) => {
    const c = classifyEvent(eventOf(body));
    expect(c.type).toBe('malformed');
    expect(c.type === 'malformed' && c.problem).toMatch(problem);
  });
});
