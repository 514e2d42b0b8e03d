/**
 * X Activity API webhook bodies in X's documented shapes (X-API.md §7, §9; docs.x.com "event
 * payloads"), for unit tests. Ids and names are made up; fields the connector does not read are kept
 * where X sends them, so the parser is tested against X's noise.
 */
export const ACCOUNT_ID = '1000';
export const CUSTOMER = {
  id: '2000',
  username: 'carla',
  name: 'Carla',
  profile_image_url: 'https://pbs.twimg.com/a.jpg',
};

let uuid = 8511582263942905000;
const nextUuid = () => String(uuid++);

export function envelope(eventType: string, payload: unknown, extra: Record<string, unknown> = {}) {
  return {
    data: {
      event_uuid: nextUuid(),
      filter: { user_id: ACCOUNT_ID },
      event_type: eventType,
      tag: 'x-channel',
      payload,
      ...extra,
    },
  };
}

export function mentionEvent(
  id: string,
  over: Record<string, unknown> = {},
  eventType = 'post.mention.create',
) {
  return envelope(
    eventType,
    {
      paid_partnership: false,
      created_at: '2026-07-24T21:23:23.000Z',
      edit_history_tweet_ids: [id],
      conversation_id: id,
      text: 'hey @acme',
      entities: { mentions: [{ start: 4, end: 9, username: 'acme', id: ACCOUNT_ID }] },
      author_id: CUSTOMER.id,
      public_metrics: { retweet_count: 0, reply_count: 0 },
      id,
      lang: 'und',
      ...over,
    },
    {
      includes: {
        users: [
          { ...CUSTOMER, public_metrics: { followers_count: 97 }, verified: false },
          { id: ACCOUNT_ID, username: 'acme', name: 'Acme' },
        ],
        tweets: [],
      },
    },
  );
}

export function dmEvent(
  id: string,
  over: {
    sender?: string;
    recipient?: string;
    text?: string;
    usersWrapped?: boolean;
    attachment?: unknown;
  } = {},
) {
  const sender = over.sender ?? CUSTOMER.id;
  const recipient = over.recipient ?? ACCOUNT_ID;
  const wrap = (u: Record<string, unknown>) => (over.usersWrapped === false ? u : { data: u });
  return envelope('dm.received', {
    direct_message_events: [
      {
        type: 'message_create',
        id,
        created_timestamp: '1784928224372',
        message_create: {
          target: { recipient_id: recipient },
          sender_id: sender,
          message_data: {
            text: over.text ?? 'hello!',
            entities: { hashtags: [], symbols: [], user_mentions: [], urls: [] },
            ...(over.attachment ? { attachment: over.attachment } : {}),
          },
        },
      },
    ],
    users: {
      [CUSTOMER.id]: wrap({ ...CUSTOMER, protected: false }),
      [ACCOUNT_ID]: wrap({ id: ACCOUNT_ID, username: 'acme', name: 'Acme' }),
    },
  });
}

export function chatEvent(id: string, over: { sender?: string; conversationId?: string } = {}) {
  const sender = over.sender ?? CUSTOMER.id;
  return envelope('chat.received', {
    conversation_token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln',
    id,
    created_at_msec: '1784841183370',
    sender_id: sender,
    conversation_id: over.conversationId ?? `${sender}:${ACCOUNT_ID}`,
    conversation_key_version: '1768236281331',
    encoded_event: 'CwABAAAAEzIwODA0MDA4MjUyMjcxMDAxNjALAAIA',
    conversation_key_change_event: 'CwABAAAAEzIwMTA3NTQ4MTkxMTY0NDk5MDULAAIA',
    message_event_signature: {
      public_key_version: '1765382634817',
      signature: 'c2ln',
      signature_version: '7',
    },
  });
}

export function revokeEvent(userId = ACCOUNT_ID) {
  return {
    data: {
      event_uuid: nextUuid(),
      filter: {},
      event_type: 'oauth.revoke',
      payload: { date_time: '2026-07-23T21:44:05+00:00', user_id: userId, app_id: '29820954' },
    },
  };
}
