/**
 * Media upload v2 of the simulated X (X-API.md §9 "Media"; shapes from X's OpenAPI 2.167
 * `initializeMediaUpload` / `appendMediaUpload` / `finalizeMediaUpload` / `getMediaUploadStatus`):
 *
 * - `POST /2/media/upload/initialize` {media_type, total_bytes, media_category} → `{data:{id, media_key,
 *   expires_after_secs}}`; the category must fit the type and the size X's limit for it (image 5 MB,
 *   GIF 15 MB, video 512 MB).
 * - `POST /2/media/upload/:id/append` {segment_index 0–999, media}: multipart (`media` a file part, as
 *   twitter-api-v2 sends it) or JSON with `media` base64 (as some clients do, X-API.md §9) → `{data:{expires_at}}`.
 * - `POST /2/media/upload/:id/finalize` → `{data:{id, media_key, size, expires_after_secs, image|video,
 *   processing_info?}}`: the segments are joined in `segment_index` order and must add up to `total_bytes`.
 *   Videos and animated GIFs (`*_video`, `*_gif`) are processed: `pending` at finalize, then
 *   `in_progress`, then `succeeded` once `processingMs` passed on the simulator's clock (STATUS polling).
 * - `GET /2/media/upload?command=STATUS&media_id=` → the same data with the current `processing_info`.
 *
 * A media id is usable by its uploader only, once (one post or one DM), within 24 h of initialize, and
 * only after processing succeeded; DMs take only `dm_*` media (X: 403 "not permitted to attach this media
 * to a DM event"). The bytes are hashed at finalize and dropped; `sha256` is what `/_sim/tweets` and
 * `/_sim/dms` report.
 */
import { createHash } from 'node:crypto';
import { forbidden, invalidRequest, json, type SimResponse } from './http-util';
import type { SimMedia, SimStore } from './store';

/** The categories X documents for posts and DMs (OpenAPI 2.167 `media_category`, minus Amplify and subtitles). */
export const MEDIA_CATEGORIES = [
  'tweet_image',
  'tweet_gif',
  'tweet_video',
  'dm_image',
  'dm_gif',
  'dm_video',
] as const;
export type MediaCategory = (typeof MEDIA_CATEGORIES)[number];

/** Image types X's OpenAPI lists for upload (besides image/gif). */
const IMAGE_TYPES = ['image/jpeg', 'image/pjpeg', 'image/png', 'image/webp', 'image/bmp', 'image/tiff'];
const VIDEO_TYPES = ['video/mp4', 'video/quicktime', 'video/webm', 'video/mp2t'];

const MB = 1024 * 1024;
/** X's size limits per kind (X-API.md §9: image 5 MB, GIF 15 MB, video 512 MB). */
export const MEDIA_LIMITS = { image: 5 * MB, gif: 15 * MB, video: 512 * MB } as const;
/** How long a media id may be attached after initialize (X: `expires_after_secs` 86400). */
export const MEDIA_TTL_SECONDS = 86_400;
/** Largest `segment_index` X accepts. */
const MAX_SEGMENT = 999;

/** What kind of object a category makes, and its media-key prefix (X: 3_ photo, 7_ video, 16_ GIF). */
function kindOf(category: MediaCategory): { kind: 'image' | 'gif' | 'video'; type: SimMedia['type'] } {
  if (category.endsWith('_video')) return { kind: 'video', type: 'video' };
  if (category.endsWith('_gif')) return { kind: 'gif', type: 'animated_gif' };
  return { kind: 'image', type: 'photo' };
}
const KEY_PREFIX: Record<SimMedia['type'], string> = { photo: '3', video: '7', animated_gif: '16' };

/** Options of the media surface (server option `mediaProcessingMs`). */
export interface MediaSettings {
  /** How long video/GIF processing takes on the simulator's clock. @default 1000 */
  processingMs: number;
}

/** One upload session's segments, kept in memory only (a restart mid-upload loses them, as a dropped session would). */
type Segments = Map<number, Buffer>;

/** The four endpoints, over the store's media records. */
export class MediaApi {
  private readonly segments = new Map<string, Segments>();

  constructor(
    private readonly store: SimStore,
    private readonly settings: MediaSettings,
  ) {}

  /** Drops in-memory segments (the simulator's reset). */
  reset(): void {
    this.segments.clear();
  }

  initialize(userId: string, body: Record<string, unknown>, now: number): SimResponse {
    const allowed = ['media_type', 'total_bytes', 'media_category', 'additional_owners', 'shared'];
    for (const key of Object.keys(body)) {
      if (!allowed.includes(key)) return invalidRequest(key, body[key], `$.${key}: unknown property`);
    }
    const category = body.media_category;
    if (!(MEDIA_CATEGORIES as readonly unknown[]).includes(category)) {
      return invalidRequest(
        'media_category',
        category,
        `$.media_category: one of [${MEDIA_CATEGORIES.join(', ')}] expected (amplify_video and subtitles are not simulated)`,
      );
    }
    const cat = category as MediaCategory;
    const mediaType = body.media_type;
    const { kind, type } = kindOf(cat);
    const fits =
      typeof mediaType === 'string' &&
      (kind === 'video'
        ? VIDEO_TYPES.includes(mediaType)
        : kind === 'gif'
          ? mediaType === 'image/gif'
          : IMAGE_TYPES.includes(mediaType) || mediaType === 'image/gif');
    if (!fits) {
      return invalidRequest(
        'media_type',
        mediaType,
        `media_type ${String(mediaType)} is not supported for media_category ${cat}`,
      );
    }
    const total = body.total_bytes;
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 1) {
      return invalidRequest('total_bytes', total, '$.total_bytes: a positive integer expected');
    }
    if (total > MEDIA_LIMITS[kind]) {
      return invalidRequest('total_bytes', total, `File size exceeds ${MEDIA_LIMITS[kind]} bytes.`);
    }
    const id = this.store.nextId();
    const media: SimMedia = {
      id,
      key: `${KEY_PREFIX[type]}_${id}`,
      ownerId: userId,
      category: cat,
      mediaType: mediaType as string,
      type,
      totalBytes: total,
      size: 0,
      sha256: null,
      createdAt: now,
      expiresAt: now + MEDIA_TTL_SECONDS * 1000,
      finalizedAt: null,
      readyAt: null,
      usedBy: null,
    };
    this.store.addMedia(media);
    this.segments.set(id, new Map());
    return json(200, {
      data: { id, media_key: media.key, expires_after_secs: MEDIA_TTL_SECONDS },
    });
  }

  /** `segmentIndex`/`chunk` already taken from the multipart or JSON body by {@link appendInput}. */
  append(userId: string, id: string, input: AppendInput, now: number): SimResponse {
    const found = this.session(userId, id, now);
    if ('status' in found) return found;
    if ('error' in input) return input.error;
    const segments = this.segments.get(id);
    if (found.finalizedAt !== null || !segments) {
      return invalidRequest('id', id, 'The upload was finalized already; start a new one.');
    }
    const { segmentIndex, chunk } = input;
    const others = [...segments.entries()].filter(([i]) => i !== segmentIndex);
    const size = others.reduce((n, [, b]) => n + b.length, 0) + chunk.length;
    if (size > found.totalBytes) {
      return invalidRequest(
        'media',
        `${chunk.length} bytes`,
        `The segments add up to ${size} bytes, more than total_bytes ${found.totalBytes}.`,
      );
    }
    segments.set(segmentIndex, chunk);
    return json(200, { data: { expires_at: Math.floor(found.expiresAt / 1000) } });
  }

  finalize(userId: string, id: string, now: number): SimResponse {
    const found = this.session(userId, id, now);
    if ('status' in found) return found;
    const segments = this.segments.get(id);
    if (found.finalizedAt === null) {
      if (!segments) return invalidRequest('id', id, 'The upload session was lost; start a new one.');
      const ordered = [...segments.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
      const bytes = Buffer.concat(ordered);
      if (bytes.length !== found.totalBytes) {
        return invalidRequest(
          'id',
          id,
          `File size mismatch: received ${bytes.length} bytes, total_bytes was ${found.totalBytes}.`,
        );
      }
      this.segments.delete(id);
      const { kind } = kindOf(found.category);
      this.store.updateMedia(found, {
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        finalizedAt: now,
        // images are usable at once; videos and animated GIFs are processed first
        readyAt: kind === 'image' ? now : now + this.settings.processingMs,
      });
    }
    return json(200, { data: this.describe(found, now) });
  }

  status(userId: string, query: URLSearchParams, now: number): SimResponse {
    for (const key of query.keys()) {
      if (key !== 'media_id' && key !== 'command') {
        return invalidRequest(
          key,
          query.get(key),
          `The query parameter [${key}] is not one of [media_id,command]`,
        );
      }
    }
    const command = query.get('command');
    if (command !== null && command !== 'STATUS') {
      return invalidRequest('command', command, 'The `command` query parameter value must be STATUS');
    }
    const id = query.get('media_id') ?? '';
    if (!/^[0-9]{1,19}$/.test(id)) {
      return invalidRequest(
        'media_id',
        id,
        'The `media_id` query parameter value does not match ^[0-9]{1,19}$',
      );
    }
    const found = this.session(userId, id, now);
    if ('status' in found) return found;
    if (found.finalizedAt === null) {
      return invalidRequest('media_id', id, 'The upload has not been finalized yet.');
    }
    return json(200, { data: this.describe(found, now) });
  }

  /**
   * Takes media ids for one post (`dm` false) or one DM: every id must be the caller's own, finalized,
   * processed, unexpired and unused. On success they are marked used by `usedBy` and their keys returned.
   */
  attach(
    userId: string,
    ids: readonly unknown[],
    target: { kind: 'post' | 'dm'; field: string },
    now: number,
  ): { keys: string[] } | { refusal: SimResponse } {
    const taken: SimMedia[] = [];
    for (const raw of ids) {
      const id = typeof raw === 'string' ? raw : '';
      const media = /^[0-9]{1,19}$/.test(id) ? this.store.media(id) : undefined;
      const usable =
        media &&
        media.ownerId === userId &&
        media.finalizedAt !== null &&
        media.usedBy === null &&
        now < media.expiresAt &&
        !taken.includes(media);
      if (!usable) {
        return { refusal: invalidRequest(target.field, String(raw), 'Your media IDs are invalid.') };
      }
      if (media.readyAt === null || now < media.readyAt) {
        return {
          refusal: invalidRequest(target.field, id, 'The media is still being processed; try again later.'),
        };
      }
      if (target.kind === 'dm' && !media.category.startsWith('dm_')) {
        return { refusal: forbidden('You are not permitted to attach this media to a DM event.') };
      }
      taken.push(media);
    }
    return { keys: taken.map((m) => m.key) };
  }

  /** Marks attached media used (after the post or DM was created). */
  markUsed(keys: readonly string[], by: string): void {
    for (const key of keys) {
      const media = this.store.mediaByKey(key);
      if (media) this.store.updateMedia(media, { usedBy: by });
    }
  }

  /** The caller's upload session `id`, or X's refusal. */
  private session(userId: string, id: string, now: number): SimMedia | SimResponse {
    const media = this.store.media(id);
    // someone else's media is answered like an unknown id: X does not tell who owns what
    if (!media || media.ownerId !== userId) {
      return invalidRequest('id', id, `Could not find media with id: [${id}].`);
    }
    if (now >= media.expiresAt) return invalidRequest('id', id, 'The upload session has expired.');
    return media;
  }

  private describe(media: SimMedia, now: number): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: media.id,
      media_key: media.key,
      size: media.size,
      expires_after_secs: Math.max(0, Math.floor((media.expiresAt - now) / 1000)),
    };
    if (media.type === 'photo') out.image = { image_type: media.mediaType };
    // X transcodes videos and animated GIFs to MP4
    else out.video = { video_type: 'video/mp4' };
    if (media.type !== 'photo' && media.readyAt !== null && media.finalizedAt !== null) {
      const total = media.readyAt - media.finalizedAt;
      const elapsed = now - media.finalizedAt;
      if (elapsed >= total) out.processing_info = { state: 'succeeded', progress_percent: 100 };
      else {
        const left = Math.max(1, Math.ceil((media.readyAt - now) / 1000));
        out.processing_info =
          elapsed <= 0
            ? { state: 'pending', check_after_secs: left }
            : {
                state: 'in_progress',
                check_after_secs: left,
                progress_percent: Math.min(99, Math.floor((elapsed / total) * 100)),
              };
      }
    }
    return out;
  }
}

/** One append's parsed input, or X's 400 naming what is wrong. */
export type AppendInput = { segmentIndex: number; chunk: Buffer } | { error: SimResponse };

function segmentIndexOf(raw: unknown): number | null {
  const n = typeof raw === 'string' && /^[0-9]{1,3}$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_SEGMENT ? n : null;
}

/**
 * Reads an append body: `multipart/form-data` with `media` the chunk's bytes (as twitter-api-v2 sends
 * it), or JSON `{segment_index, media: <base64>}` (as the XDK sends it).
 */
export function appendInput(contentType: string | undefined, raw: Buffer): AppendInput {
  const type = (contentType ?? '').toLowerCase();
  let segmentRaw: unknown;
  let chunk: Buffer | null;
  if (type.startsWith('multipart/form-data')) {
    const parts = multipartParts(contentType as string, raw);
    if (!parts) return { error: invalidRequest('media', '', 'The multipart body could not be read.') };
    segmentRaw = parts.get('segment_index')?.toString('utf8');
    chunk = parts.get('media') ?? null;
  } else if (type.includes('json')) {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { error: invalidRequest('media', '', 'Request body must be a JSON object') };
    }
    const o = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    segmentRaw = o.segment_index;
    chunk = typeof o.media === 'string' ? decodeBase64(o.media) : null;
  } else {
    return {
      error: invalidRequest('content-type', contentType, 'multipart/form-data or application/json expected'),
    };
  }
  const segmentIndex = segmentIndexOf(segmentRaw);
  if (segmentIndex === null) {
    return {
      error: invalidRequest(
        'segment_index',
        segmentRaw,
        `$.segment_index: an integer from 0 to ${MAX_SEGMENT} expected`,
      ),
    };
  }
  if (!chunk || chunk.length === 0) {
    return { error: invalidRequest('media', '', '$.media: the media chunk (binary or base64) is required') };
  }
  return { segmentIndex, chunk };
}

/**
 * The parts of a `multipart/form-data` body by name, as raw bytes. Written here rather than using
 * `Response.formData()`: the platform decodes a part without `filename` as UTF-8 text, and
 * twitter-api-v2 sends the binary `media` chunk exactly so (no filename), which would corrupt it.
 */
function multipartParts(contentType: string, raw: Buffer): Map<string, Buffer> | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!boundary) return null;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts = new Map<string, Buffer>();
  let at = raw.indexOf(delimiter);
  if (at < 0) return null;
  for (;;) {
    at += delimiter.length;
    if (raw.subarray(at, at + 2).toString() === '--') return parts; // closing delimiter
    const headerEnd = raw.indexOf('\r\n\r\n', at);
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd);
    if (headerEnd < 0 || next < 0) return null;
    const headers = raw.subarray(at, headerEnd).toString('utf8');
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name !== undefined) parts.set(name, raw.subarray(headerEnd + 4, next));
    at = next + 2;
  }
}

/** Strict base64 (standard alphabet, padding optional): anything else is not a chunk. */
function decodeBase64(text: string): Buffer | null {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return null;
  return Buffer.from(compact, 'base64');
}
