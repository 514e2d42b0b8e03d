/**
 * DM media behind authentication (X-API.md §9 "Inbound"): a DM's photo is listed with its
 * `ton.twitter.com` URL, `https://ton.twitter.com/1.1/ton/data/dm/<dm id>/<media id>/<resource id>`,
 * which opens only with the participant's credentials; the v2 download
 * `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}` (OAuth 2.0 user token, `dm.read`,
 * participants only) answers the raw bytes.
 *
 * The simulator serves the ton path on its own origin and refuses it (401: it takes OAuth 1.0a user
 * context, which the simulator does not do); the v2 download answers the bytes to a participant's
 * token, 401 without a token (server.ts), 403 to anyone else, 404 for a wrong id or resource. The bytes
 * of a photo made by `mediaCount` are a small PNG drawn from its media key (the same every time), so
 * `/_sim/dms` can give their `sha256` and a test can compare what reached the case system.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { json, type SimResponse } from './http-util';
import type { SimDm, SimStore } from './store';

/** The resource id X gives a DM photo (`[a-zA-Z0-9_.-]{1,50}`, with its extension). */
export function dmResourceId(mediaKey: string): string {
  return `${oneShotHash('sha256', `resource:${mediaKey}`, 'base64url').slice(0, 16)}.png`;
}

/** The media id in a media key (`3_<id>` → `<id>`). */
export const mediaIdOf = (mediaKey: string) => mediaKey.slice(mediaKey.indexOf('_') + 1);

/** The ton URL X lists for a DM's media (its path names the DM, the media and the resource). */
export function dmMediaUrl(origin: string, dm: SimDm, mediaKey: string): string {
  return `${origin}/1.1/ton/data/dm/${dm.id}/${mediaIdOf(mediaKey)}/${dmResourceId(mediaKey)}`;
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

const pngCache = new Map<string, Buffer>();

/**
 * The bytes of a simulated DM photo: a 64×48 RGB PNG whose colours come from the media key (a real
 * image any decoder opens; about 200 bytes).
 */
export function dmPhotoBytes(mediaKey: string): Buffer {
  let png = pngCache.get(mediaKey);
  if (png) return png;
  const seed = createHash('sha256').update(mediaKey).digest();
  const width = 64;
  const height = 48;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const band = (x >> 4) + (y >> 4) * 4;
      raw[row + 1 + x * 3] = seed[band % 32];
      raw[row + 2 + x * 3] = seed[(band + 7) % 32];
      raw[row + 3 + x * 3] = seed[(band + 13) % 32];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  if (pngCache.size > 10_000) pngCache.clear();
  pngCache.set(mediaKey, png);
  return png;
}

/** The type a media key names (X's prefixes: `3_` photo, `7_` video, `16_` animated GIF). */
export const simMediaType = (key: string): 'photo' | 'video' | 'animated_gif' =>
  key.startsWith('7_') ? 'video' : key.startsWith('16_') ? 'animated_gif' : 'photo';

/** The mp4 bit rates a simulated video or GIF is offered in (the best is the last). */
export const SIM_VIDEO_BIT_RATES = [256_000, 2_176_000] as const;

/**
 * The bytes of one mp4 variant of a simulated video: an `ftyp` box and filler drawn from the key and
 * bit rate (not a playable film; a client can tell the variants apart by their hash and size).
 */
export function simVideoBytes(mediaKey: string, bitRate: number): Buffer {
  const size = Math.round(bitRate / 100);
  const out = Buffer.alloc(size);
  Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x6d, 0x70, 0x34, 0x32]).copy(out);
  const seed = createHash('sha256').update(`${mediaKey}:${bitRate}`).digest();
  for (let i = 12; i < size; i++) out[i] = seed[i % 32] ^ (i & 0xff);
  return out;
}

/** Hex SHA-256 of a DM photo made by `mediaCount` (what `/_sim/dms` lists). */
export const dmPhotoSha256 = (mediaKey: string) =>
  createHash('sha256').update(dmPhotoBytes(mediaKey)).digest('hex');

const notFound = (detail: string) =>
  json(404, {
    title: 'Not Found Error',
    detail,
    type: 'https://api.x.com/2/problems/resource-not-found',
    status: 404,
  });

/**
 * `GET /2/dm_conversations/media/:dm_id/:media_id/:resource_id` for `userId` (already authenticated
 * with `dm.read`). Media uploaded through the API keeps no bytes in the simulator (only its hash):
 * such a download is a 404.
 */
export function downloadDmMedia(
  store: SimStore,
  userId: string,
  params: Record<string, string>,
): SimResponse {
  const dm = store.dm(params.dm_id);
  if (!dm) return notFound(`Could not find DM event with id: [${params.dm_id}].`);
  if (dm.senderId !== userId && dm.recipientId !== userId)
    return json(403, {
      title: 'Forbidden',
      detail: 'You are not a participant in the conversation of this Direct Message.',
      type: 'about:blank',
      status: 403,
    });
  const key = dm.mediaKeys.find((k) => mediaIdOf(k) === params.media_id);
  if (!key || store.mediaByKey(key) || dmResourceId(key) !== params.resource_id)
    return notFound(`Could not find media with id: [${params.media_id}].`);
  return {
    status: 200,
    body: dmPhotoBytes(key),
    headers: { 'content-type': 'image/png', 'cache-control': 'private, no-store' },
  };
}

/** The ton path: OAuth 1.0a user context only (not simulated), so always X's v1.1 401. */
export const TON_UNAUTHORIZED = (): SimResponse =>
  json(401, { errors: [{ code: 32, message: 'Could not authenticate you.' }] });
