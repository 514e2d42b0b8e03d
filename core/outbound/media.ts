/**
 * Outbound media rules, checked before any call to X (X-API.md §9 "Media"): where `mediaUrls` may point
 * (DESIGN.md: `s3://<the media bucket>/<key>`, or an `https://` URL whose origin is on the operator's
 * allow-list, empty by default — never an arbitrary URL), how many items a command may carry (1–4 for a
 * reply or post, 1 for a DM), which types X takes and how large each may be. Reading the objects is the
 * {@link MediaSource} port's job (adapters/aws/s3-media-source.ts, adapters/http/https-media-source.ts).
 *
 * Each refusal is a `permanent` ChannelError whose code is a result code: `media_source_not_allowed`,
 * `media_not_found`, `media_type_not_supported`, `media_too_large`.
 */
import { permanent } from '../errors';

const MB = 1024 * 1024;

/** What X makes of a file: the category family and the size limit follow from it. */
export type MediaKind = 'image' | 'gif' | 'video';

/** Content types X's upload takes for posts and DMs, and their kind (X-API.md §9). */
export const MEDIA_TYPES: Readonly<Record<string, MediaKind>> = {
  'image/jpeg': 'image',
  'image/png': 'image',
  'image/webp': 'image',
  'image/gif': 'gif',
  'video/mp4': 'video',
  'video/quicktime': 'video',
};

/** X's size limits (X-API.md §9: image 5 MB, GIF 15 MB, video 512 MB). */
export const MEDIA_MAX_BYTES: Readonly<Record<MediaKind, number>> = {
  image: 5 * MB,
  gif: 15 * MB,
  video: 512 * MB,
};

/** How many media items X attaches: 4 to a post or reply, one to a DM. */
export const MEDIA_MAX_ITEMS = { reply: 4, post: 4, dm: 1 } as const;

/** One accepted `mediaUrls` entry. */
export type MediaRef =
  { source: 's3'; url: string; bucket: string; key: string } | { source: 'https'; url: string };

/** Where media may come from (sender config). */
export interface MediaPolicy {
  /** The deployment's media bucket; null: no bucket configured, so no `s3://` URL is accepted. */
  bucket: string | null;
  /** The key prefix the sender may read (the case system's `grantPutOutboundMedia` writes there). */
  keyPrefix: string;
  /** `https://` origins (scheme + host [+ port]) an operator allowed; empty by default. */
  allowedOrigins: readonly string[];
}

/** What a HEAD of the object told: its content type and size. */
export interface MediaHead {
  contentType: string | null;
  bytes: number;
}

/** Reads media objects; `head` answers null when the object does not exist. Errors are ChannelErrors. */
export interface MediaSource {
  head(ref: MediaRef): Promise<MediaHead | null>;
  /** Bytes `[start, end)` of the object. */
  read(ref: MediaRef, start: number, end: number): Promise<Buffer>;
}

/** A media item checked against X's rules, ready to upload. */
export interface PlannedMedia {
  ref: MediaRef;
  mediaType: string;
  kind: MediaKind;
  totalBytes: number;
  /** `dm_*` for DMs, `tweet_*` otherwise (X refuses tweet media in DMs). */
  category: 'tweet_image' | 'tweet_gif' | 'tweet_video' | 'dm_image' | 'dm_gif' | 'dm_video';
}

/** A safe rendering of a URL for messages: scheme, host and path only (no query: it may carry a signature). */
function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, 200);
  } catch {
    return '(not a URL)';
  }
}

/** Normalises an allow-list entry or URL to its origin (`https://host[:port]`); null when it has none. */
export function originOf(value: string): string | null {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' && u.host ? u.origin : null;
  } catch {
    return null;
  }
}

/** Accepts one `mediaUrls` entry or throws `media_source_not_allowed` naming it. */
export function parseMediaUrl(raw: string, index: number, policy: MediaPolicy): MediaRef {
  const field = `mediaUrls[${index}]`;
  const refuse = (why: string) => permanent('media_source_not_allowed', `${field} (${shown(raw)}): ${why}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol === 's3:') {
    if (!policy.bucket) throw refuse('no media bucket is configured for this deployment');
    // `s3://bucket/key`: the bucket is the host, the key the rest of the path (percent-decoded)
    const key = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (url.hostname !== policy.bucket)
      throw refuse(`only s3://${policy.bucket}/${policy.keyPrefix}<key> is accepted`);
    if (!key || url.search || url.hash || url.username || url.password || url.port)
      throw refuse('expected s3://<media bucket>/<key> with a key and nothing else');
    if (!key.startsWith(policy.keyPrefix) || key.split('/').includes('..'))
      throw refuse(`outbound media keys start with ${policy.keyPrefix}`);
    return { source: 's3', url: raw, bucket: url.host, key };
  }
  if (url.protocol === 'https:') {
    if (url.username || url.password) throw refuse('URLs with credentials are not accepted');
    const allowed = policy.allowedOrigins.some((o) => originOf(o) === url.origin);
    if (!allowed) throw refuse(`${url.origin} is not on the operator's media allow-list`);
    return { source: 'https', url: url.toString() };
  }
  throw refuse('only s3://<media bucket>/<key> (or an allow-listed https:// URL) is accepted');
}

const categoryOf = (dm: boolean, kind: MediaKind): PlannedMedia['category'] =>
  `${dm ? 'dm' : 'tweet'}_${kind}` as PlannedMedia['category'];

/**
 * Checks a command's media against X's rules — count first (no object read), then where each URL
 * points, then each object's existence, type and size (a HEAD each) — and plans the uploads.
 */
export async function planMedia(
  kind: 'reply' | 'post' | 'dm',
  urls: readonly string[],
  policy: MediaPolicy,
  source: MediaSource,
): Promise<PlannedMedia[]> {
  const max = MEDIA_MAX_ITEMS[kind];
  if (urls.length > max) {
    throw permanent(
      'media_too_large',
      `mediaUrls: ${urls.length} items; X attaches at most ${max} to a ${kind}${kind === 'dm' ? ' (one attachment per DM)' : ''}`,
    );
  }
  const refs = urls.map((u, i) => parseMediaUrl(u, i, policy));
  const planned: PlannedMedia[] = [];
  for (const [i, ref] of refs.entries()) {
    const field = `mediaUrls[${i}]`;
    const head = await source.head(ref);
    if (!head) throw permanent('media_not_found', `${field} (${shown(ref.url)}): no such object`);
    const mediaType = (head.contentType ?? '').split(';')[0].trim().toLowerCase();
    const mediaKind = MEDIA_TYPES[mediaType];
    if (!mediaKind) {
      throw permanent(
        'media_type_not_supported',
        `${field}: content type ${mediaType || '(none)'}; X takes ${Object.keys(MEDIA_TYPES).join(', ')}`,
      );
    }
    if (head.bytes <= 0) throw permanent('media_not_found', `${field}: the object is empty`);
    const limit = MEDIA_MAX_BYTES[mediaKind];
    if (head.bytes > limit) {
      throw permanent(
        'media_too_large',
        `${field}: ${head.bytes} bytes; X takes at most ${limit} bytes for ${mediaType} (${limit / MB} MB)`,
      );
    }
    planned.push({
      ref,
      mediaType,
      kind: mediaKind,
      totalBytes: head.bytes,
      category: categoryOf(kind === 'dm', mediaKind),
    });
  }
  return planned;
}
