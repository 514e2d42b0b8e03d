/**
 * The small HTML page `/oauth/callback` answers. It tells the console tab that opened it, with
 * `postMessage` to the configured console origin only (never `*`: the message names the account),
 * falls back to a same-origin `BroadcastChannel('x-channel-oauth')` when the opener is gone
 * (e.g. cross-origin-opener policies cut it), then closes itself. The text reads fine if the tab
 * cannot close. Strict CSP: the one inline script and style run by nonce; nothing external loads.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { SignInOutcome } from '../../core/sign-in';

/** The message the page sends to the console. */
export interface OAuthResultMessage {
  type: 'x-channel:oauth';
  ok: boolean;
  channelId: string | null;
  account?: { id: string; username: string; name: string; avatarUrl: string | null };
  /** A `SignInRefusal` code when `ok` is false. */
  error?: string;
}

export const BROADCAST_CHANNEL_NAME = 'x-channel-oauth';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside `<script>`: no `</script>`, no HTML comment openers, no JS line separators. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

export function messageFor(outcome: SignInOutcome): OAuthResultMessage {
  return outcome.ok
    ? { type: 'x-channel:oauth', ok: true, channelId: outcome.channelId, account: outcome.account }
    : { type: 'x-channel:oauth', ok: false, channelId: outcome.channelId ?? null, error: outcome.error };
}

export function renderCallbackPage(
  outcome: SignInOutcome,
  consoleOrigin: string,
  extra: { cookies?: string[] } = {},
): APIGatewayProxyStructuredResultV2 {
  const nonce = randomBytes(16).toString('base64');
  const message = messageFor(outcome);
  const heading = outcome.ok ? 'Connected' : 'Sign-in not completed';
  const text = outcome.ok
    ? `Connected @${outcome.account.username}. You can close this tab.`
    : `${outcome.message} You can close this tab.`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>x-channel — ${escapeHtml(heading)}</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;margin:3rem auto;max-width:32rem;padding:0 1rem;color:#111}h1{font-size:1.25rem}</style>
</head>
<body>
<main>
<h1>${escapeHtml(heading)}</h1>
<p id="result" role="status">${escapeHtml(text)}</p>
</main>
<script nonce="${nonce}">
(function () {
  var msg = ${scriptJson(message)};
  var target = ${scriptJson(consoleOrigin)};
  try { if (window.opener && !window.opener.closed) window.opener.postMessage(msg, target); } catch (e) {}
  try { var bc = new BroadcastChannel(${scriptJson(BROADCAST_CHANNEL_NAME)}); bc.postMessage(msg); bc.close(); } catch (e) {}
  window.close();
})();
</script>
</body>
</html>
`;
  return {
    statusCode: outcome.ok ? 200 : outcome.status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      // the URL carries the one-time code: keep it out of caches and Referer headers
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    },
    ...(extra.cookies?.length ? { cookies: extra.cookies } : {}),
    body: html,
  };
}
