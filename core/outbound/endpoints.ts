/**
 * Which X endpoints an outbound command uses, keyed exactly like the rate-limit state on the channel
 * (`health.rateLimits` / `health.notBefore`, written by the poller for its reads with the same keys):
 * `METHOD /2/path/with/:templates`.
 */
import type { OutboundCommand } from '../../contracts';

/** Replies and posts (X-API.md §3: 100/15 min per user, 10,000/24 h per app). */
export const POST_TWEETS = 'POST /2/tweets';
/** A DM to a user id (one-to-one conversation). */
export const DM_WITH_PARTICIPANT = 'POST /2/dm_conversations/with/:participant_id/messages';
/** A DM into an existing conversation by its `dm_conversation_id`. */
export const DM_IN_CONVERSATION = 'POST /2/dm_conversations/:dm_conversation_id/messages';
/** Group DM creation: never called by the sender, but it counts against the same DM-send limits. */
export const DM_CREATE_CONVERSATION = 'POST /2/dm_conversations';
/** The post history read when looking for an earlier delivery of a reply or post. */
export const USER_TWEETS = 'GET /2/users/:id/tweets';
export const DM_EVENTS_WITH_PARTICIPANT = 'GET /2/dm_conversations/with/:participant_id/dm_events';
export const DM_EVENTS_IN_CONVERSATION = 'GET /2/dm_conversations/:dm_conversation_id/dm_events';
/** Media upload v2 (X-API.md §3: "media initialize/append/finalize" one row, 1,875 / 15 min per user). */
export const MEDIA_INITIALIZE = 'POST /2/media/upload/initialize';
export const MEDIA_APPEND = 'POST /2/media/upload/:id/append';
export const MEDIA_FINALIZE = 'POST /2/media/upload/:id/finalize';
export const MEDIA_STATUS = 'GET /2/media/upload';
/** The upload endpoints share one window (one row in X's table); STATUS is counted with them [uncertain]. */
const MEDIA_UPLOADS: readonly string[] = [MEDIA_INITIALIZE, MEDIA_APPEND, MEDIA_FINALIZE, MEDIA_STATUS];

/**
 * X-API.md §3 lists "POST DM (3 endpoints)" under one row: 15/15 min and 1,440/24 h per user, and the
 * 24 h windows are one shared counter at X (the simulated X models it as the `dm-send` bucket, per user
 * and per app). Whether the 15-minute window is shared too is not documented, so a block on any DM send
 * endpoint blocks all three: waiting at most one window too long beats a 429 X told us to avoid.
 */
const DM_SENDS: readonly string[] = [DM_WITH_PARTICIPANT, DM_IN_CONVERSATION, DM_CREATE_CONVERSATION];

/** Whether a DM target is a dm_conversation_id (one-to-one ids are `<id>-<id>`) rather than a user id. */
export const isDmConversationId = (target: string) => target.includes('-');

type Kind = OutboundCommand['kind'];

/** The endpoint the one write of a command calls. */
export function writeEndpoint(kind: Kind, targetId?: string): string {
  if (kind !== 'dm') return POST_TWEETS;
  return isDmConversationId(targetId ?? '') ? DM_IN_CONVERSATION : DM_WITH_PARTICIPANT;
}

/** The endpoint read when an earlier attempt may have been delivered (see `XWriter.findEarlierDelivery`). */
export function lookupEndpoint(kind: Kind, targetId?: string): string {
  if (kind !== 'dm') return USER_TWEETS;
  return isDmConversationId(targetId ?? '') ? DM_EVENTS_IN_CONVERSATION : DM_EVENTS_WITH_PARTICIPANT;
}

/** Endpoints whose rate-limit state also blocks `endpoint` (itself included). */
export function sharedWindowOf(endpoint: string): readonly string[] {
  if (MEDIA_UPLOADS.includes(endpoint)) return MEDIA_UPLOADS;
  return DM_SENDS.includes(endpoint) ? DM_SENDS : [endpoint];
}
