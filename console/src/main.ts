/**
 * The admin console: the channel list, "Configure X channel" (create, sign in with X, three switches),
 * health and actions. Plain DOM, no framework: the whole page is a few views rebuilt on navigation,
 * with in-place updates where focus must survive (the switches).
 *
 * Routes (in the fragment, so the static page is one URL): `#/` list, `#/new`, `#/channels/<id>`.
 */
import { adviceFor, LANGS, type Lang, MESSAGES, type Messages, pickLang, type StatusKey } from '../i18n';
import { ApiError, createApi, type NewChannel, UnauthorizedError } from './api';
import {
  acceptsSignInLink,
  type AuthConfig,
  clearToken,
  cognitoLogoutUrl,
  completeCognitoSignIn,
  currentToken,
  redeemSignInLink,
  SignInAnswerError,
  SignInLinkError,
  startCognitoSignIn,
} from './auth';
import { hideAlerts, refreshAlerts } from './alerts-banner';
import { avatar } from './avatar';
import { appCostCard, costCard } from './cost-card';
import { byId, h, replaceChildren } from './dom';
import { openSignInTab, type SignInOutcome, waitForSignIn } from './oauth-popup';
import {
  type ChannelView,
  type HealthView,
  type PendingRevocationView,
  SWITCH_KEYS,
  type SwitchKey,
} from './types';

const LANG_KEY = 'x-channel.lang';
const STATUS_KEYS: readonly string[] = ['pending_auth', 'active', 'paused', 'needs_reauth', 'degraded'];

let lang: Lang = 'en';
let m: Messages = MESSAGES.en;
let config: AuthConfig = { authMode: 'local' };
/** Set when the API said 401: the signed-out view then says the session ended. */
let sessionEnded = false;
/** A problem to show on the signed-out view (a refused Cognito answer). */
let signInProblem: string | null = null;

/** Sign-in attempts by channel id; survives re-renders and language switches. */
type SignInPhase = { kind: 'waiting' } | { kind: 'blocked' } | SignInOutcome;
const signIns = new Map<string, SignInPhase>();
/** Switches chosen on the new-channel page before the channel exists. */
let draft: NewChannel = { listenMentions: true, listenDms: true, autoFollow: false };
let draftProblem: string | null = null;

const api = createApi({
  onUnauthorized: () => {
    clearToken();
    sessionEnded = true;
  },
});

const main = () => byId<HTMLElement>('main');

/** Says `text` through the polite live region (cleared first so a repeated text is announced again). */
function announce(text: string): void {
  const el = byId('announcer');
  el.textContent = '';
  window.setTimeout(() => {
    el.textContent = text;
  }, 50);
}

function describeError(e: unknown): string {
  if (e instanceof ApiError && e.code) return `${adviceFor(m, e.code).what} (${e.message})`;
  if (e instanceof Error) return e.message;
  return String(e);
}

// ---------- formatting ----------

function formatTime(iso: string | null): string {
  if (!iso) return m.never;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(d);
}

function relativeTime(iso: string | null): string {
  if (!iso) return m.never;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

const displayName = (c: ChannelView) => c.name ?? c.account?.name ?? m.unnamed;

function badge(status: string, reason?: string | null): HTMLElement {
  const known = STATUS_KEYS.includes(status);
  const words = known ? m.status[status as StatusKey] : m.statusUnknown;
  const text = status === 'degraded' && reason ? `${words}: ${reason}` : words;
  return h('span', { class: `badge badge-${known ? status : 'paused'}` }, text);
}

// ---------- shell ----------

function applyShellTexts(): void {
  document.documentElement.lang = lang;
  document.title = m.appTitle;
  byId('app-title').textContent = m.appTitle;
  byId('skip-link').textContent = m.skipToContent;
  byId('lang-label').textContent = m.language;
  const select = byId<HTMLSelectElement>('lang-select');
  replaceChildren(
    select,
    ...LANGS.map((l) => h('option', { value: l, selected: l === lang }, MESSAGES[l].langName)),
  );
  const signOut = byId<HTMLButtonElement>('sign-out');
  signOut.textContent = m.signOut;
  signOut.hidden = currentToken() === null;
  byId('confirm-no').textContent = m.cancel;
  byId('confirm-yes').textContent = m.confirmDeleteYes;
  byId('confirm-title').textContent = m.confirmDeleteTitle;
}

function setLang(next: Lang): void {
  lang = next;
  m = MESSAGES[next];
  localStorage.setItem(LANG_KEY, next);
  applyShellTexts();
  void render({ keepFocus: true });
}

/** Puts focus on the view's heading so screen-reader users hear where they are. */
function focusHeading(): void {
  const heading = main().querySelector<HTMLElement>('h2');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function confirmDialog(text: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm-dialog');
  byId('confirm-text').textContent = text;
  return new Promise((resolve) => {
    const yes = byId('confirm-yes');
    const no = byId('confirm-no');
    const done = (value: boolean) => {
      yes.removeEventListener('click', onYes);
      no.removeEventListener('click', onNo);
      dialog.removeEventListener('cancel', onNo);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    yes.addEventListener('click', onYes);
    no.addEventListener('click', onNo);
    dialog.addEventListener('cancel', onNo);
    dialog.showModal();
    no.focus(); // the safe choice has focus
  });
}

// ---------- views ----------

function renderSignedOut(): void {
  byId<HTMLButtonElement>('sign-out').hidden = true;
  const cognito = config.authMode === 'cognito' && config.cognito;
  replaceChildren(
    main(),
    h('h2', {}, m.signedOutTitle),
    sessionEnded ? h('div', { class: 'notice warn', role: 'alert' }, m.sessionExpired) : null,
    signInProblem ? h('div', { class: 'notice bad', role: 'alert' }, signInProblem) : null,
    h('p', {}, cognito ? m.signedOutCognito : m.signedOutLocal),
    cognito
      ? h(
          'button',
          {
            type: 'button',
            class: 'button',
            id: 'console-sign-in',
            onclick: () => void startCognitoSignIn(cognito),
          },
          m.signIn,
        )
      : null,
  );
}

/** Deleted channels whose grant X has not revoked yet: retry, or discard on purpose. */
function pendingRevocationsSection(pending: PendingRevocationView[]): HTMLElement | null {
  if (pending.length === 0) return null;
  const items = pending.map((r) => {
    const name = r.name ?? (r.username ? `@${r.username}` : r.channelId);
    const retry = h('button', { type: 'button' }, m.retryRevocation);
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      await api.retryRevocation(r.channelId).finally(() => void render());
    });
    const discard = h('button', { type: 'button', class: 'danger' }, m.discardGrant);
    discard.addEventListener('click', async () => {
      if (!window.confirm(m.discardGrantConfirm(name))) return;
      discard.disabled = true;
      await api.discardGrant(r.channelId).finally(() => void render());
    });
    return h(
      'li',
      { 'data-pending-id': r.channelId },
      h('strong', {}, name),
      r.username && r.name ? h('span', { class: 'muted' }, ` @${r.username}`) : null,
      ' ',
      h('span', { class: 'badge' }, m.revocationPending),
      h('p', { class: 'help' }, m.revocationAttempts(r.attempts, r.lastError)),
      retry,
      ' ',
      discard,
    );
  });
  return h(
    'section',
    { class: 'panel', id: 'pending-revocations', 'aria-labelledby': 'pending-revocations-title' },
    h('h3', { id: 'pending-revocations-title' }, m.pendingRevocations),
    h('p', { class: 'help' }, m.pendingRevocationsHelp),
    h('ul', {}, ...items),
  );
}

async function renderList(stale: () => boolean): Promise<void> {
  replaceChildren(main(), h('h2', {}, m.channels), h('p', { 'aria-busy': 'true' }, m.loading));
  const [listed, pending] = await Promise.all([api.listChannels(), api.listPendingRevocations()]);
  // The list carries no counters; each channel's health has them (a failed one keeps the stored view).
  const channels = await Promise.all(
    listed.map(async (c) => ({
      ...c,
      health: await api.getHealth(c.id).catch((e: unknown) => {
        if (e instanceof UnauthorizedError) throw e;
        return c.health;
      }),
    })),
  );
  if (stale()) return;
  const rows = channels.map((c) => {
    const name = displayName(c);
    const inCount = c.health.counters.mentionsDelivered + c.health.counters.dmsDelivered;
    return h(
      'tr',
      { 'data-channel-id': c.id },
      h(
        'td',
        {},
        h(
          'div',
          { class: 'account-cell' },
          avatar({
            id: c.account?.id ?? c.id,
            name: c.account?.name ?? name,
            username: c.account?.username ?? '',
            label: m.avatarOf(c.account?.name ?? name),
          }),
          h(
            'div',
            {},
            h('a', { href: `#/channels/${encodeURIComponent(c.id)}`, 'aria-label': m.configure(name) }, name),
            c.account ? h('div', { class: 'muted' }, `@${c.account.username}`) : null,
          ),
        ),
      ),
      h('td', {}, badge(c.status, c.statusReason)),
      h('td', { title: formatTime(c.health.lastPollAt) }, relativeTime(c.health.lastPollAt)),
      h('td', {}, String(inCount)),
      h('td', {}, String(c.health.counters.sent)),
    );
  });
  replaceChildren(
    main(),
    h(
      'div',
      { class: 'header-row' },
      h('h2', {}, m.channels),
      h('a', { class: 'button', href: '#/new', id: 'new-channel' }, m.newChannel),
    ),
    channels.length === 0
      ? h('p', { class: 'panel' }, m.noChannels)
      : h(
          'table',
          {},
          h('caption', { class: 'visually-hidden' }, m.channels),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, m.account),
              h('th', { scope: 'col' }, m.statusColumn),
              h('th', { scope: 'col' }, m.lastPoll),
              h('th', { scope: 'col' }, m.messagesIn),
              h('th', { scope: 'col' }, m.messagesOut),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
    pendingRevocationsSection(pending),
    // the app-wide X budget and month (GET|PATCH /settings), beside the per-channel cards
    appCostCard({ api, lang }),
  );
}

const SWITCH_TEXT = (key: SwitchKey) =>
  ({
    listenMentions: { label: m.listenMentions, help: m.listenMentionsHelp },
    listenDms: { label: m.listenDms, help: m.listenDmsHelp },
    autoFollow: { label: m.autoFollow, help: m.autoFollowHelp },
  })[key];

/** One switch row. With `save`, a change is saved at once and its state shown beside it. */
function switchRow(
  key: SwitchKey,
  checked: boolean,
  onChange: (value: boolean, state: HTMLElement, input: HTMLInputElement) => void,
): HTMLElement {
  const id = `switch-${key}`;
  const text = SWITCH_TEXT(key);
  const state = h('span', { class: 'save-state', id: `${id}-state`, 'aria-live': 'polite' });
  const input = h('input', {
    type: 'checkbox',
    role: 'switch',
    id,
    name: key,
    checked,
    'aria-describedby': `${id}-help${key === 'autoFollow' ? ` ${id}-warning` : ''}`,
  });
  input.checked = checked;
  input.addEventListener('change', () => onChange(input.checked, state, input));
  return h(
    'div',
    { class: 'switch-row' },
    input,
    h('label', { for: id }, text.label),
    state,
    h('p', { class: 'help', id: `${id}-help` }, text.help),
    key === 'autoFollow' ? h('p', { class: 'warning', id: `${id}-warning` }, m.autoFollowWarning) : null,
  );
}

function signInNotice(channelId: string, onRetry: () => void): HTMLElement | null {
  const s = signIns.get(channelId);
  if (!s) return null;
  const retry = h(
    'button',
    { type: 'button', class: 'button secondary', id: 'retry-sign-in', onclick: onRetry },
    m.retry,
  );
  const refusal = (text: string) =>
    h('div', { class: 'notice bad', id: 'sign-in-notice', role: 'alert' }, h('p', {}, text), retry);
  switch (s.kind) {
    case 'waiting':
      return h('div', { class: 'notice info', id: 'sign-in-notice' }, m.waitingForX);
    case 'connected':
      return null;
    case 'blocked':
      return refusal(m.popupBlocked);
    case 'cancelled':
      return refusal(m.cancelledAtX);
    case 'closed':
      return refusal(m.popupClosed);
    case 'failed':
      return refusal(m.signInFailed(adviceFor(m, s.reason).what));
  }
}

/**
 * Runs "Sign in with X" for an existing channel, or creates the channel first (`input`). Must be
 * called synchronously from the click handler: the tab is opened before any `await`.
 */
function signInWithX(channelId: string | null, input: NewChannel | null, before: ChannelView | null): void {
  const tab = openSignInTab();
  void (async () => {
    let id = channelId;
    try {
      if (!id) {
        const created = await api.createChannel(input!);
        id = created.id;
        draft = { listenMentions: true, listenDms: true, autoFollow: false };
      }
      if (!tab) {
        signIns.set(id, { kind: 'blocked' });
        announce(m.popupBlocked);
      } else {
        signIns.set(id, { kind: 'waiting' });
        announce(m.waitingForX);
      }
      await showChannel(id);
      if (!tab) return;
      const authorizeUrl = await api.authorize(id);
      tab.location.href = authorizeUrl;
      const channel = id;
      const wait = waitForSignIn(tab, channel, async () => {
        const c = await api.getChannel(channel);
        // A first sign-in shows as an account on a channel that is no longer pending.
        return before?.account == null && c.account !== null && c.status !== 'pending_auth';
      });
      const outcome = await wait.outcome;
      signIns.set(channel, outcome);
      if (outcome.kind === 'connected') {
        const c = await api.getChannel(channel);
        announce(m.connected(c.account?.username ?? ''));
      } else {
        announce(
          outcome.kind === 'cancelled'
            ? m.cancelledAtX
            : outcome.kind === 'closed'
              ? m.popupClosed
              : m.signInFailed(adviceFor(m, outcome.reason).what),
        );
      }
      await showChannel(channel);
    } catch (e) {
      if (tab && !tab.closed) tab.close();
      if (e instanceof UnauthorizedError) return void render();
      if (id) {
        signIns.set(id, { kind: 'failed', reason: describeError(e) });
        await showChannel(id).catch(() => undefined);
      } else {
        draftProblem = m.actionFailed(describeError(e));
        await render({ keepFocus: true });
      }
      announce(m.actionFailed(describeError(e)));
    }
  })();
}

/** Shows a channel: navigates there, or re-renders in place when already there. */
async function showChannel(id: string): Promise<void> {
  const target = `#/channels/${encodeURIComponent(id)}`;
  if (location.hash !== target)
    location.hash = target; // hashchange renders
  else await render({ keepFocus: true });
}

function renderNew(): void {
  const nameInput = h('input', {
    id: 'channel-name',
    name: 'name',
    type: 'text',
    'aria-describedby': 'channel-name-hint',
    maxlength: 64,
  });
  const switches = SWITCH_KEYS.map((key) =>
    switchRow(key, draft[key], (value) => {
      draft = { ...draft, [key]: value };
    }),
  );
  replaceChildren(
    main(),
    h('p', {}, h('a', { href: '#/' }, `← ${m.backToList}`)),
    h('h2', {}, m.newChannelTitle),
    h('p', {}, m.newChannelIntro),
    draftProblem ? h('div', { class: 'notice bad', role: 'alert' }, draftProblem) : null,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'channel-name' }, m.channelName),
      nameInput,
      h('span', { class: 'muted', id: 'channel-name-hint' }, m.channelNameHint),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'options-title' },
      h('h3', { id: 'options-title' }, m.options),
      ...switches,
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'sign-in-title' },
      h('h3', { id: 'sign-in-title' }, m.signInWithX),
      h('p', {}, m.signInHelp),
      h('p', { class: 'muted' }, m.signInPrivacy),
      h(
        'button',
        {
          type: 'button',
          class: 'button x-sign-in',
          id: 'sign-in-with-x',
          onclick: () => {
            draftProblem = null;
            const name = nameInput.value.trim();
            signInWithX(null, { ...draft, ...(name ? { name } : {}) }, null);
          },
        },
        m.signInWithX,
      ),
    ),
  );
}

/** Real time: on / off (reason) / catching up since …, the last event and the subscriptions at X. */
function realtimeSection(health: HealthView): HTMLElement | null {
  const rt = health.realtime;
  if (!rt) return null;
  const reason =
    rt.reasonCode && rt.reasonCode in m.realtime.reasons
      ? m.realtime.reasons[rt.reasonCode as keyof typeof m.realtime.reasons]
      : rt.reason;
  const line =
    rt.state === 'catching_up' && rt.catchingUpSince
      ? m.realtime.catchingUp(formatTime(rt.catchingUpSince))
      : rt.state === 'off'
        ? `${m.realtime.off}${reason ? ` ${reason}` : ''}`
        : m.realtime.on;
  return h(
    'div',
    { id: 'realtime', 'data-state': rt.state, ...(rt.reasonCode ? { 'data-reason': rt.reasonCode } : {}) },
    h('h3', {}, m.realtime.title),
    h(
      'p',
      { class: rt.state === 'off' ? 'notice warn' : rt.state === 'on' ? 'notice ok' : 'notice info' },
      line,
    ),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, m.realtime.lastEvent),
      h('dd', {}, rt.lastEventAt ? formatTime(rt.lastEventAt) : '—'),
      h('dt', {}, m.realtime.subscriptions),
      h('dd', {}, rt.subscriptions.length ? rt.subscriptions.join(', ') : m.realtime.none),
      h('dt', {}, m.realtime.encryptedDms),
      h('dd', { id: 'realtime-encrypted' }, String(rt.encryptedDms)),
    ),
    rt.encryptedDms ? h('p', { class: 'muted' }, m.realtime.encryptedHelp) : null,
  );
}

function healthSection(c: ChannelView, health: HealthView): HTMLElement {
  const err = health.lastError;
  const advice = err ? adviceFor(m, err.code) : null;
  const disabled = (Object.keys(health.disabled) as Array<keyof HealthView['disabled']>).filter(
    (k) => health.disabled[k],
  );
  const counters = Object.entries(m.counters) as Array<[keyof HealthView['counters'], string]>;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'health-title', id: 'health' },
    h('h3', { id: 'health-title' }, m.health),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, m.lastPoll),
      h('dd', {}, formatTime(health.lastPollAt)),
      h('dt', {}, m.lastSuccess),
      h('dd', {}, formatTime(health.lastSuccessAt)),
      h('dt', {}, m.nextPoll),
      h('dd', {}, health.nextPollAt ? formatTime(health.nextPollAt) : '—'),
      ...counters.flatMap(([k, label]) => [h('dt', {}, label), h('dd', {}, String(health.counters[k]))]),
    ),
    c.statusReason && c.status !== 'degraded'
      ? h('p', {}, h('strong', {}, `${m.statusReason}: `), c.statusReason)
      : null,
    ...disabled.map((k) => h('div', { class: 'notice warn', 'data-disabled': k }, m.disabled[k])),
    realtimeSection(health),
    h('h3', {}, m.lastError),
    err && advice
      ? h(
          'div',
          { class: 'notice bad', id: 'last-error', 'data-code': err.code },
          h('p', {}, advice.what, err.at ? ` (${formatTime(err.at)})` : ''),
          h('p', {}, h('strong', {}, `${m.whatToDo}: `), advice.todo),
        )
      : h('p', { class: 'muted' }, m.noErrors),
    h('h3', {}, m.rateLimits),
    health.rateLimits.length === 0
      ? h('p', { class: 'muted' }, m.noRateLimits)
      : h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, m.rateLimitEndpoint),
              h('th', { scope: 'col' }, m.rateLimitRemaining),
              h('th', { scope: 'col' }, m.rateLimitReset),
            ),
          ),
          h(
            'tbody',
            {},
            ...health.rateLimits.map((w) =>
              h(
                'tr',
                {},
                h('td', {}, h('code', {}, w.endpoint)),
                h('td', {}, `${w.remaining} / ${w.limit}`),
                h('td', {}, formatTime(w.resetAt)),
              ),
            ),
          ),
        ),
  );
}

function fillReauthSlot(
  slot: HTMLElement,
  missing: ChannelView['needsReauthorization'],
  needsSignIn: boolean,
): void {
  replaceChildren(
    slot,
    missing.length && !needsSignIn
      ? h(
          'div',
          { class: 'notice warn' },
          h('p', {}, m.needsReauthorization(missing.map((f) => m.featureNames[f]).join(', '))),
        )
      : null,
  );
}

async function renderChannel(id: string, stale: () => boolean): Promise<void> {
  replaceChildren(main(), h('h2', {}, m.loading));
  const c = await api.getChannel(id);
  // The health endpoint is the live view; a failure there still shows the channel with its stored health.
  const health = await api.getHealth(id).catch((e: unknown) => {
    if (e instanceof UnauthorizedError) throw e;
    return c.health;
  });
  if (stale()) return;
  const name = displayName(c);
  const needsSignIn = !c.account || c.status === 'pending_auth';
  const retry = () => signInWithX(c.id, null, c);
  // Updated in place after a switch is saved: turning on DMs or auto-follow may need a new grant at X.
  const reauthSlot = h('div', { id: 'needs-reauthorization' });
  fillReauthSlot(reauthSlot, c.needsReauthorization, needsSignIn);
  const switches = SWITCH_KEYS.map((key) =>
    switchRow(key, c[key], (value, state, input) => {
      state.textContent = m.saving;
      state.className = 'save-state';
      api.patchChannel(c.id, { [key]: value }).then(
        (updated) => {
          state.textContent = m.saved;
          state.className = 'save-state ok';
          if (updated) fillReauthSlot(reauthSlot, updated.needsReauthorization, needsSignIn);
        },
        (e: unknown) => {
          if (e instanceof UnauthorizedError) return void render();
          input.checked = !value;
          state.textContent = m.saveFailed(describeError(e));
          state.className = 'save-state bad';
        },
      );
    }),
  );
  const paused = c.status === 'paused';
  replaceChildren(
    main(),
    h('p', {}, h('a', { href: '#/' }, `← ${m.backToList}`)),
    h('div', { class: 'header-row' }, h('h2', {}, name), badge(c.status, c.statusReason)),
    signInNotice(c.id, retry),
    reauthSlot,
    needsSignIn
      ? h(
          'section',
          { class: 'panel', 'aria-labelledby': 'sign-in-title' },
          h('h3', { id: 'sign-in-title' }, m.signInWithX),
          h('p', {}, m.signInHelp),
          h('p', { class: 'muted' }, m.signInPrivacy),
          h(
            'button',
            { type: 'button', class: 'button x-sign-in', id: 'sign-in-with-x', onclick: retry },
            m.signInWithX,
          ),
        )
      : null,
    c.account
      ? h(
          'section',
          { class: 'panel account-card', 'aria-labelledby': 'account-title', id: 'account' },
          avatar({
            id: c.account.id,
            name: c.account.name,
            username: c.account.username,
            label: m.avatarOf(c.account.name),
            large: true,
          }),
          h(
            'div',
            {},
            h('h3', { id: 'account-title' }, m.account),
            h(
              'dl',
              {},
              h('dt', {}, m.accountName),
              h('dd', { id: 'account-name' }, c.account.name),
              h('dt', {}, m.accountUsername),
              h('dd', { id: 'account-username' }, `@${c.account.username}`),
              h('dt', {}, m.accountId),
              h('dd', { id: 'account-id' }, c.account.id),
            ),
          ),
        )
      : null,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'options-title' },
      h('h3', { id: 'options-title' }, m.options),
      ...switches,
    ),
    healthSection(c, health),
    costCard({ api, channelId: c.id, lang }),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'actions-title' },
      h('h3', { id: 'actions-title' }, m.actions),
      h(
        'div',
        { class: 'row' },
        needsSignIn
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'button secondary',
                id: 'pause-resume',
                onclick: () => void act(c, { paused: !paused }, paused ? m.resumed : m.paused),
              },
              paused ? m.resume : m.pause,
            ),
        needsSignIn
          ? null
          : h(
              'button',
              { type: 'button', class: 'button secondary', id: 'reauthorize', onclick: retry },
              m.reauthorize,
            ),
        h(
          'button',
          {
            type: 'button',
            class: 'button danger',
            id: 'delete-channel',
            onclick: () => void deleteChannel(c),
          },
          m.deleteChannel,
        ),
      ),
    ),
  );
}

async function act(c: ChannelView, patch: { paused: boolean }, done: string): Promise<void> {
  try {
    await api.patchChannel(c.id, patch);
    announce(done);
    await render({ keepFocus: true });
    byId('pause-resume').focus();
  } catch (e) {
    if (e instanceof UnauthorizedError) return void render();
    announce(m.actionFailed(describeError(e)));
  }
}

async function deleteChannel(c: ChannelView): Promise<void> {
  const name = displayName(c);
  if (!(await confirmDialog(m.confirmDelete(name)))) {
    byId('delete-channel').focus();
    return;
  }
  try {
    await api.deleteChannel(c.id);
    signIns.delete(c.id);
    announce(m.deleted(name));
    location.hash = '#/';
  } catch (e) {
    if (e instanceof UnauthorizedError) return void render();
    announce(m.actionFailed(describeError(e)));
  }
}

// ---------- router ----------

/**
 * Counts renders. A view's API calls can outlast it (a discard re-renders the list, the admin moves on);
 * a render that finishes after a newer one started must not paint over it (e.g. over the signed-out view).
 */
let renderSeq = 0;

async function render(opts: { keepFocus?: boolean } = {}): Promise<void> {
  const seq = ++renderSeq;
  const stale = () => seq !== renderSeq;
  byId<HTMLButtonElement>('sign-out').hidden = currentToken() === null;
  if (currentToken() === null) {
    hideAlerts();
    renderSignedOut();
    if (!opts.keepFocus) focusHeading();
    return;
  }
  void refreshAlerts(() => m, api.listAlerts, formatTime);
  const route = location.hash.replace(/^#\/?/, '');
  try {
    if (route === 'new') renderNew();
    else if (route.startsWith('channels/'))
      await renderChannel(decodeURIComponent(route.slice('channels/'.length)), stale);
    else await renderList(stale);
  } catch (e) {
    if (e instanceof UnauthorizedError) {
      // Signed out is true whichever render learned it: later-finishing renders must not paint over it.
      renderSeq++;
      hideAlerts();
      renderSignedOut();
    } else if (!stale()) {
      replaceChildren(
        main(),
        h('p', {}, h('a', { href: '#/' }, `← ${m.backToList}`)),
        h('h2', {}, m.loadFailed),
        h('div', { class: 'notice bad', role: 'alert' }, describeError(e)),
      );
    }
  }
  if (!opts.keepFocus && (!stale() || currentToken() === null)) focusHeading();
}

async function loadConfig(): Promise<AuthConfig> {
  try {
    const res = await fetch(new URL('assets/config.json', document.baseURI), { cache: 'no-store' });
    const body = (await res.json()) as AuthConfig;
    return body.authMode === 'cognito' && body.cognito ? body : { authMode: 'local' };
  } catch {
    return { authMode: 'local' };
  }
}

/** The fixed text for a sign-in service's `?error=` answer (never the address's own text). */
function signInAnswerText(e: SignInAnswerError): string {
  return e.code === 'access_denied' ? m.signInAnswer.cancelled : m.signInAnswer.failed(e.code);
}

/** Signs in with a one-time link in the address (`#signin=`), if there is one: local mode only. */
async function takeSignInLink(): Promise<void> {
  if (!acceptsSignInLink(config)) return;
  try {
    if (await redeemSignInLink()) {
      sessionEnded = false;
      signInProblem = null;
    }
  } catch (e) {
    signInProblem = e instanceof SignInLinkError ? m.signInLink[e.reason] : describeError(e);
  }
}

async function boot(): Promise<void> {
  const stored = localStorage.getItem(LANG_KEY);
  lang =
    stored && (LANGS as readonly string[]).includes(stored)
      ? (stored as Lang)
      : pickLang(navigator.languages);
  m = MESSAGES[lang];
  applyShellTexts();
  // the auth mode decides what the address may do, so it is known before the address is read
  config = await loadConfig();
  await takeSignInLink();
  if (config.authMode === 'cognito' && config.cognito) {
    try {
      if (await completeCognitoSignIn(config.cognito)) sessionEnded = false;
    } catch (e) {
      signInProblem = e instanceof SignInAnswerError ? signInAnswerText(e) : describeError(e);
    }
  }
  byId<HTMLSelectElement>('lang-select').addEventListener('change', (e) =>
    setLang((e.target as HTMLSelectElement).value as Lang),
  );
  byId('sign-out').addEventListener('click', () => {
    clearToken();
    sessionEnded = false;
    const logout = cognitoLogoutUrl(config);
    if (logout) location.assign(logout);
    else void render();
  });
  window.addEventListener('hashchange', () => {
    void takeSignInLink().then(() => render());
  });
  await render({ keepFocus: true });
}

void boot();
