/**
 * "Sign in with X" in a tab that closes itself.
 *
 * Timeline:
 * 1. click → `openSignInTab()` runs synchronously inside the click handler, so the pop-up blocker sees
 *    a user gesture; the tab shows about:blank while the API creates the channel and the authorize URL;
 * 2. `tab.location` is set to X's authorize page; the admin authorizes (or cancels) there;
 * 3. X redirects the tab to our `/oauth/callback`, which posts `{ type: 'x-channel:oauth', ok, channelId }`
 *    to this origin (`window.opener.postMessage`, and a `BroadcastChannel` for browsers that cut the
 *    opener after the cross-origin round trip), then closes itself;
 * 4. if the tab closes without a message (the admin closed it), the channel itself is asked whether
 *    it got connected: a message may be lost, the channel's state is not.
 */

/** How a sign-in attempt ended. */
export type SignInOutcome =
  { kind: 'connected' } | { kind: 'cancelled' } | { kind: 'closed' } | { kind: 'failed'; reason: string };

/** The message the callback page sends (fixed with the sign-in engineer). */
export interface OAuthMessage {
  type: 'x-channel:oauth';
  ok: boolean;
  channelId: string;
  account?: unknown;
  error?: string;
}

/** Name of the BroadcastChannel the callback page also posts to. */
export const OAUTH_BROADCAST = 'x-channel-oauth';
const TAB_NAME = 'x-channel-signin';
const POLL_CLOSED_MS = 400;

/** Checks the shape of a callback message; anything else is ignored. */
export function isOAuthMessage(data: unknown): data is OAuthMessage {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as Record<string, unknown>;
  return (
    d.type === 'x-channel:oauth' &&
    typeof d.ok === 'boolean' &&
    typeof d.channelId === 'string' &&
    (d.error === undefined || typeof d.error === 'string')
  );
}

/** Error values of the callback that mean "the admin chose Cancel at X" (OAuth's `access_denied`). */
const CANCEL_ERRORS = new Set(['access_denied', 'cancelled', 'canceled']);

/** Opens the sign-in tab; call it synchronously in the click handler. Null when the browser blocked it. */
export function openSignInTab(): Window | null {
  // No `noopener`: the callback page needs `window.opener` to report back.
  return window.open('about:blank', TAB_NAME);
}

/**
 * Waits for the outcome of the sign-in running in `tab` for `channelId`. `isConnected` asks the API
 * (used when the tab closed without a message). `stop()` removes every listener and timer.
 */
export function waitForSignIn(
  tab: Window,
  channelId: string,
  isConnected: () => Promise<boolean>,
): { outcome: Promise<SignInOutcome>; stop: () => void } {
  let stop = () => {};
  const outcome = new Promise<SignInOutcome>((resolve) => {
    let done = false;
    const bc = typeof BroadcastChannel === 'function' ? new BroadcastChannel(OAUTH_BROADCAST) : null;
    const finish = (o: SignInOutcome) => {
      if (done) return;
      done = true;
      stop();
      resolve(o);
    };
    const onData = (data: unknown) => {
      // Messages for other channels (another tab's sign-in, or a stray callback page) change nothing here.
      if (!isOAuthMessage(data) || data.channelId !== channelId) return;
      if (data.ok) finish({ kind: 'connected' });
      else if (data.error && CANCEL_ERRORS.has(data.error)) finish({ kind: 'cancelled' });
      else finish({ kind: 'failed', reason: data.error ?? 'unknown' });
    };
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== location.origin) return;
      onData(event.data);
    };
    const onBroadcast = (event: MessageEvent) => onData(event.data);
    window.addEventListener('message', onMessage);
    bc?.addEventListener('message', onBroadcast);
    const timer = window.setInterval(() => {
      if (!tab.closed || done) return;
      window.clearInterval(timer);
      // The callback posts just before it closes; give a late BroadcastChannel message a moment.
      window.setTimeout(() => {
        if (done) return;
        isConnected().then(
          (ok) => finish(ok ? { kind: 'connected' } : { kind: 'closed' }),
          () => finish({ kind: 'closed' }),
        );
      }, 300);
    }, POLL_CLOSED_MS);
    stop = () => {
      window.removeEventListener('message', onMessage);
      bc?.removeEventListener('message', onBroadcast);
      bc?.close();
      window.clearInterval(timer);
    };
  });
  return { outcome, stop: () => stop() };
}
