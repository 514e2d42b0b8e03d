/**
 * The authenticated DM media download, `GET /2/dm_conversations/media/{dm_id}/{media_id}/{resource_id}`
 * (X-API.md §9: OAuth 2.0 user token, `dm.read`, participants only; the body is the raw bytes).
 *
 * Node's own `fetch`, not twitter-api-v2: the library decodes every answer as JSON or text, which
 * corrupts binary bodies, and reads the whole body before a size check. Here the body is read as a
 * stream and given up at `maxBytes`, and the whole request (headers and body) at `timeoutMs`.
 * Statuses map as every X call's do (adapters/x/errors.ts, X-API.md §5): 401 needs_reauth, 429
 * rate_limited with X's reset, 5xx and network failures retryable, 403 and 404 permanent.
 */
import { needsReauth, permanent, retryable } from '../../core/errors';
import {
  DM_MEDIA_ERROR_CODES,
  type DmMediaBounds,
  type DmMediaFile,
  type DmMediaRef,
} from '../../core/inbound/dm-media';
import type { RateObservation } from '../../core/inbound/types';

/** The endpoint template (rate-limit windows and request counts are kept under it). */
export const DM_MEDIA_ENDPOINT = 'GET /2/dm_conversations/media/:dm_id/:media_id/:resource_id';

export interface DmMediaDownloadSettings {
  /** X's API origin (the simulated X's locally). */
  apiBaseUrl: string;
  accessToken: string;
  onRateLimit?: (o: RateObservation) => void;
  /** Counts X requests (tests, benchmark), like the twitter-api-v2 clients' hook. */
  onRequest?: (info: { method: string; path: string }) => void;
}

const header = (res: Response, name: string) => {
  const v = Number(res.headers.get(name));
  return Number.isFinite(v) && res.headers.has(name) ? v : undefined;
};

/** Downloads one DM attachment within `bounds`. Throws ChannelErrors only. */
export async function downloadDmMedia(
  settings: DmMediaDownloadSettings,
  ref: DmMediaRef,
  bounds: DmMediaBounds,
): Promise<DmMediaFile> {
  const url = new URL(
    `/2/dm_conversations/media/${ref.dmId}/${ref.mediaId}/${encodeURIComponent(ref.resourceId)}`,
    settings.apiBaseUrl,
  );
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), bounds.timeoutMs);
  settings.onRequest?.({ method: 'GET', path: DM_MEDIA_ENDPOINT.slice(4) });
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${settings.accessToken}` },
        redirect: 'error',
        signal: abort.signal,
      });
    } catch (e) {
      throw abort.signal.aborted
        ? retryable(DM_MEDIA_ERROR_CODES.timeout, `DM media download took over ${bounds.timeoutMs} ms`)
        : retryable('x_unavailable', 'X could not be reached for a DM media download', undefined, e);
    }
    const limit = header(res, 'x-rate-limit-limit');
    const remaining = header(res, 'x-rate-limit-remaining');
    const reset = header(res, 'x-rate-limit-reset');
    if (limit !== undefined && remaining !== undefined && reset !== undefined)
      settings.onRateLimit?.({ endpoint: DM_MEDIA_ENDPOINT, limit, remaining, reset });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw statusError(res.status, reset);
    }
    const declared = header(res, 'content-length');
    if (declared !== undefined && declared > bounds.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(bounds.maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body ?? []) {
        total += chunk.byteLength;
        if (total > bounds.maxBytes) {
          abort.abort();
          throw tooLarge(bounds.maxBytes);
        }
        chunks.push(chunk);
      }
    } catch (e) {
      if ((e as { code?: string }).code === DM_MEDIA_ERROR_CODES.tooLarge) throw e;
      throw abort.signal.aborted
        ? retryable(DM_MEDIA_ERROR_CODES.timeout, `DM media download took over ${bounds.timeoutMs} ms`)
        : retryable('x_unavailable', 'X ended a DM media download early', undefined, e);
    }
    return { bytes: Buffer.concat(chunks, total), contentType: res.headers.get('content-type') };
  } finally {
    clearTimeout(timer);
  }
}

const tooLarge = (maxBytes: number) =>
  permanent(DM_MEDIA_ERROR_CODES.tooLarge, `DM media is larger than ${maxBytes} bytes (MEDIA_MAX_BYTES)`);

function statusError(status: number, reset: number | undefined) {
  if (status === 401) return needsReauth('X refused the access token (401)');
  if (status === 429)
    return retryable(
      'rate_limited',
      'X rate limit reached for DM media downloads',
      reset !== undefined ? new Date(reset * 1000) : undefined,
    );
  if (status === 404) return permanent(DM_MEDIA_ERROR_CODES.notFound, 'X has no such DM media (404)');
  if (status === 403) return permanent('media_forbidden', 'X refused the DM media download (403)');
  if (status >= 500) return retryable('x_unavailable', `X answered ${status} to a DM media download`);
  return permanent('x_refused', `X answered ${status} to a DM media download`);
}
