/**
 * DM media into the media bucket (issue 18, DESIGN.md "Contracts": every attachment `url` opens without
 * X credentials). X lists a DM's media with its `ton.twitter.com` URL, which needs the channel's
 * token; the connector downloads each attachment with the authenticated v2 endpoint
 * `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}` (X-API.md §9), stores it under a
 * content-addressed key `inbound/<channelId>/<sha256>` and puts a presigned GET URL in
 * `attachments[].url`.
 * ```
 * DM message ─> per attachment: ton URL ─> (dm id, media id, resource id) ─> download (token, ≤ maxBytes,
 *               ≤ timeout, retried like any X call) ─> sha256 ─> PutObject inbound/<channel>/<sha256>
 *               ─> presigned GET ─> attachment { url, contentType, bytes }
 * ```
 * A download that fails never holds the message back: the attachment is delivered with `url: ""`,
 * `unavailable: true` and `unavailableReason`, and the caller counts it in health. The same bytes
 * always land on the same key, so a message read twice (a retried poll, the webhook and a poll) stores
 * one object.
 */
import { createHash } from 'node:crypto';
import type { InboundMessage } from '../../contracts';
import { isChannelError, type ChannelError } from '../errors';

/** What names one DM attachment at X: the path of its ton URL. */
export interface DmMediaRef {
  dmId: string;
  mediaId: string;
  /** With its extension, e.g. `tJg5kUG5RKPi3jNi.jpg`. */
  resourceId: string;
}

/** Bounds of one download. */
export interface DmMediaBounds {
  maxBytes: number;
  timeoutMs: number;
}

/** A downloaded attachment. */
export interface DmMediaFile {
  bytes: Uint8Array;
  /** X's `content-type`, when it gave one. */
  contentType: string | null;
}

/** Stores inbound media and signs GET URLs for it (adapters/aws/s3-inbound-media.ts). */
export interface InboundMediaStore {
  /**
   * Puts `bytes` at `inbound/<channelId>/<sha256>` (the same bytes, the same key) and answers a
   * presigned GET URL of it. Errors are ChannelErrors.
   */
  put(input: { channelId: string; sha256: string; bytes: Uint8Array; contentType: string }): Promise<{
    url: string;
  }>;
}

/** Why an attachment could not be delivered (`attachments[].unavailableReason`, docs/contracts.md). */
export type UnavailableReason =
  | 'too_large'
  | 'timeout'
  | 'not_found'
  | 'refused'
  | 'rate_limited'
  | 'x_unavailable'
  | 'storage_failed'
  | 'not_configured';

/** Codes of the ChannelErrors a download adapter throws for its own bounds. */
export const DM_MEDIA_ERROR_CODES = {
  tooLarge: 'media_too_large',
  timeout: 'media_download_timeout',
  notFound: 'media_not_found',
} as const;

/**
 * The ton URL's last three path segments: `…/dm/<dm id>/<media id>/<resource id>` (X's DM media URLs,
 * `https://ton.twitter.com/1.1/ton/data/dm/…`, and the simulated X's, which keep that path).
 */
export function parseDmMediaUrl(url: string): DmMediaRef | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  const m = /\/dm\/([0-9]{1,19})\/([0-9]{1,19})\/([a-zA-Z0-9_.-]{1,50})$/.exec(path);
  return m ? { dmId: m[1], mediaId: m[2], resourceId: m[3] } : null;
}

/** Types a stored object may claim; anything else is stored as `application/octet-stream`. */
const SERVED_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'video/mp4']);

/** The content type an object is stored with (never one a browser would run, such as SVG or HTML). */
export function storedContentType(given: string | null): string {
  const base = given?.split(';')[0].trim().toLowerCase() ?? '';
  return SERVED_TYPES.has(base) ? base : 'application/octet-stream';
}

/** The reason shown for a failed download or store. */
export function unavailableReasonOf(error: ChannelError): UnavailableReason {
  switch (error.code) {
    case DM_MEDIA_ERROR_CODES.tooLarge:
      return 'too_large';
    case DM_MEDIA_ERROR_CODES.timeout:
      return 'timeout';
    case DM_MEDIA_ERROR_CODES.notFound:
    case 'target_not_found':
      return 'not_found';
    case 'rate_limited':
      return 'rate_limited';
    case 'media_store_failed':
      return 'storage_failed';
  }
  if (error.kind === 'needs_reauth' || error.kind === 'permanent' || error.kind === 'invalid_input')
    return 'refused';
  return 'x_unavailable';
}

export interface ResolveDmMediaOptions {
  /** Downloads one attachment (the caller's X call, with its retries and token refresh). */
  download: (ref: DmMediaRef) => Promise<DmMediaFile>;
  /** Absent: no bucket configured, every DM attachment is delivered unavailable (`not_configured`). */
  store?: InboundMediaStore;
  toChannelError: (e: unknown) => ChannelError;
  /** Downloads in flight at once. */
  concurrency?: number;
  /** Sees each attachment that could not be delivered (the reason and error code: no content, no URL). */
  onUnavailable?: (info: { channelId: string; reason: UnavailableReason; errorCode?: string }) => void;
}

/** What happened to the DM attachments of a batch. */
export interface DmMediaOutcome {
  stored: number;
  unavailable: number;
}

type Attachment = InboundMessage['attachments'][number];

/**
 * Replaces the X URL of every DM attachment in `messages` (mentions are left alone: their media is
 * public) by a presigned URL of the stored copy, or marks it unavailable. Never throws.
 */
export async function resolveDmMedia(
  messages: InboundMessage[],
  options: ResolveDmMediaOptions,
): Promise<DmMediaOutcome> {
  const outcome: DmMediaOutcome = { stored: 0, unavailable: 0 };
  const work: Array<{ message: InboundMessage; index: number }> = [];
  for (const message of messages) {
    if (message.kind !== 'dm' || message.encrypted) continue;
    message.attachments.forEach((a, index) => {
      if (!a.unavailable) work.push({ message, index });
    });
  }
  const one = async ({ message, index }: { message: InboundMessage; index: number }) => {
    const { attachment, errorCode } = await resolveOne(
      message.channelId,
      message.attachments[index],
      options,
    );
    message.attachments[index] = attachment;
    if (attachment.unavailable) {
      outcome.unavailable++;
      options.onUnavailable?.({
        channelId: message.channelId,
        reason: attachment.unavailableReason as UnavailableReason,
        ...(errorCode ? { errorCode } : {}),
      });
    } else outcome.stored++;
  };
  const limit = Math.max(1, options.concurrency ?? 4);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, work.length) }, async () => {
      while (next < work.length) await one(work[next++]);
    }),
  );
  return outcome;
}

const unavailable = (a: Attachment, reason: UnavailableReason): Attachment => ({
  type: a.type,
  url: '',
  ...(a.altText ? { altText: a.altText } : {}),
  unavailable: true,
  unavailableReason: reason,
});

async function resolveOne(
  channelId: string,
  attachment: Attachment,
  options: ResolveDmMediaOptions,
): Promise<{ attachment: Attachment; errorCode?: string }> {
  const ref = parseDmMediaUrl(attachment.url);
  if (!ref) return { attachment: unavailable(attachment, 'not_found') };
  if (!options.store) return { attachment: unavailable(attachment, 'not_configured') };
  let file: DmMediaFile;
  try {
    file = await options.download(ref);
  } catch (e) {
    const error = options.toChannelError(e);
    return { attachment: unavailable(attachment, unavailableReasonOf(error)), errorCode: error.code };
  }
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const contentType = storedContentType(file.contentType);
  try {
    const { url } = await options.store.put({ channelId, sha256, bytes: file.bytes, contentType });
    return {
      attachment: {
        type: attachment.type,
        url,
        contentType,
        bytes: file.bytes.byteLength,
        ...(attachment.altText ? { altText: attachment.altText } : {}),
      },
    };
  } catch (e) {
    const error = isChannelError(e) ? e : options.toChannelError(e);
    return { attachment: unavailable(attachment, 'storage_failed'), errorCode: error.code };
  }
}
