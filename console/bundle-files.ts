/**
 * The shape of a built console and the content types it is served with. Shared by `build.ts` (which
 * needs esbuild, a dev dependency) and `serve.ts` (which runs in the deployed function without it).
 */
import path from 'node:path';

/** One file the console serves under `/assets/`. */
export interface ConsoleAsset {
  /** Path below `/assets/`, e.g. `app-3f2a9c1b04de.js`. */
  name: string;
  contentType: string;
  body: Buffer;
}

/** The built console: the page and its assets. */
export interface ConsoleBundle {
  indexHtml: Buffer;
  assets: Map<string, ConsoleAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Content type by file extension; unknown files are served as bytes (and `nosniff`), never guessed. */
export function contentTypeOf(name: string): string {
  return CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}
