/**
 * Wire-format fidelity: every endpoint sim-x serves answers bodies that validate against X's
 * published OpenAPI response schemas (test/fixtures/x-openapi), with all fields and expansions on.
 */
import type { TweetV2PaginableTimelineParams } from 'twitter-api-v2';
import { DM_MEDIA_ENDPOINT, ENDPOINTS, XAA_ENDPOINTS } from '../../../sim/x/limits';
import type { SimX } from '../../../sim/x/server';
import { signIn, startTestSim, validatedEndpoints, wireViolations } from './helpers';
import { checkWireFormat, OPENAPI_VERSION } from './openapi';

describe('sim-x wire format against X OpenAPI', () => {
  let sim: SimX;
  beforeEach(async () => {
    sim = await startTestSim();
    sim.setTier('enterprise');
  });
  afterEach(async () => {
    await sim.stop();
  });

  it(`every endpoint validates against spec ${OPENAPI_VERSION}`, async () => {
    const account = sim.createUser({ username: 'acme_help', name: 'Acme Help' });
    const customer = sim.createUser({ username: 'lucia', name: 'Lucía' });
    const root = sim.createTweet({
      authorId: account.id,
      text: 'Our store opens at 9 #news https://example.com',
    });
    const mention = sim.createTweet({
      authorId: customer.id,
      text: '@acme_help where is my order?',
      inReplyToId: root.id,
      mediaCount: 2,
    });
    sim.createTweet({
      authorId: customer.id,
      text: '@acme_help long one',
      longText: true,
      quoteOfId: root.id,
    });
    sim.sendDm({ senderId: customer.id, recipientId: account.id, text: 'hola', mediaCount: 1 });
    const { client } = await signIn(sim, 'acme_help');
    const tweetFields = [
      'attachments',
      'author_id',
      'conversation_id',
      'created_at',
      'entities',
      'in_reply_to_user_id',
      'lang',
      'note_tweet',
      'public_metrics',
      'referenced_tweets',
      'edit_controls',
      'possibly_sensitive',
      'reply_settings',
      'display_text_range',
    ] as const;
    const userFields = [
      'created_at',
      'description',
      'profile_image_url',
      'protected',
      'public_metrics',
      'receives_your_dm',
      'verified',
      'verified_type',
      'connection_status',
      'most_recent_tweet_id',
    ] as const;
    const all = {
      'tweet.fields': [...tweetFields],
      'user.fields': [...userFields],
      'media.fields': ['url', 'width', 'height', 'alt_text', 'type'] as (
        'url' | 'width' | 'height' | 'alt_text' | 'type'
      )[],
    } as unknown as Pick<TweetV2PaginableTimelineParams, 'tweet.fields' | 'user.fields' | 'media.fields'>;
    // (cast: twitter-api-v2's field unions lag X's list, e.g. display_text_range, most_recent_tweet_id)
    await client.v2.me({ 'user.fields': [...userFields] });
    await client.v2.user(customer.id, { 'user.fields': [...userFields] });
    await client.v2.userByUsername('lucia', { 'user.fields': [...userFields] });
    await client.v2.user('1234567890'); // not found: errors[] in a 200
    await client.v2.userMentionTimeline(account.id, {
      ...all,
      expansions: [
        'author_id',
        'attachments.media_keys',
        'referenced_tweets.id',
        'referenced_tweets.id.author_id',
        'in_reply_to_user_id',
        'entities.mentions.username',
      ],
      max_results: 5,
    });
    await client.v2.userTimeline(account.id, { ...all, expansions: ['author_id'] });
    const dmOpts = {
      'dm_event.fields': ['created_at', 'sender_id', 'dm_conversation_id', 'attachments'] as (
        'created_at' | 'sender_id' | 'dm_conversation_id' | 'attachments'
      )[],
      expansions: ['sender_id', 'attachments.media_keys'] as ('sender_id' | 'attachments.media_keys')[],
      'user.fields': [...userFields],
      'media.fields': ['url', 'type'] as ('url' | 'type')[],
    };
    await client.v2.listDmEvents(dmOpts);
    await client.v2.listDmEventsWithParticipant(customer.id, dmOpts);
    const sent = (await client.v2.sendDmToParticipant(customer.id, { text: 'hi' })) as unknown as {
      data: { dm_conversation_id: string };
    };
    await client.v2.listDmEventsOfConversation(sent.data.dm_conversation_id, dmOpts);
    await client.v2.sendDmInConversation(sent.data.dm_conversation_id, { text: 'again' });
    await client.v2.reply('thanks!', mention.id);
    await client.v2.follow(account.id, customer.id);

    expect(wireViolations(sim)).toEqual([]);
    // The XAA and webhook endpoints have their own full-coverage check (xaa-wire-format.test.ts), the
    // media upload endpoints theirs (media-upload.test.ts); the DM media download answers raw bytes, not
    // JSON (test/integration/inbound/dm-media.test.ts compares them with the simulated X's sha256).
    const userEndpoints = ENDPOINTS.filter(
      (e) =>
        !(XAA_ENDPOINTS as readonly string[]).includes(e) &&
        !e.includes('/2/media/') &&
        e !== DM_MEDIA_ENDPOINT,
    );
    expect(validatedEndpoints(sim)).toEqual([...userEndpoints].sort());
  });

  it('the validator catches a body that breaks the schema', () => {
    expect(
      checkWireFormat('GET /2/users/me', 200, JSON.stringify({ data: { name: 'no id or username' } })),
    ).toMatchObject({
      endpoint: 'GET /2/users/me',
    });
    expect(
      checkWireFormat(
        'POST /2/tweets',
        201,
        JSON.stringify({ data: { id: 'abc', text: 'x' } }),
      )?.errors.join(),
    ).toContain('/data/id');
  });
});
