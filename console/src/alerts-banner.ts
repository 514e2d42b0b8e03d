/**
 * The banner of open alerts (issue 20, item 5): above every signed-in view, one line per open alert in
 * the console's language (console/i18n.ts `alerts`), with a link to the channel's page for a channel's
 * alert. Read from `GET /alerts` on each render; hidden when nothing is open or the read fails (the
 * banner never stands in the way of the page). A labelled `section` (a region landmark) placed before
 * `<main>`, so the views that rebuild `<main>` leave it alone.
 */
import type { AlertFacts, AlertKindKey, Messages } from '../i18n';
import { h, replaceChildren } from './dom';

/** An alert as `GET /alerts` answers it (docs/openapi.yaml `Alert`). */
export interface AlertView {
  id: string;
  kind: string;
  severity: 'warning' | 'critical';
  channelId: string | null;
  title: string;
  text: string;
  facts: AlertFacts;
  consoleUrl: string | null;
  openedAt: string;
}

const BANNER_ID = 'alerts-banner';

function bannerElement(): HTMLElement {
  const existing = document.getElementById(BANNER_ID);
  if (existing) return existing;
  const section = h('section', { id: BANNER_ID, class: 'alerts-banner', hidden: true });
  const main = document.getElementById('main');
  main?.parentNode?.insertBefore(section, main);
  return section;
}

/** The sentence for an alert: the console's own words for a known kind, else the API's title. */
export function alertSentence(m: Messages, a: Pick<AlertView, 'kind' | 'facts' | 'title'>): string {
  const say = (m.alerts.kinds as Record<string, ((f: AlertFacts) => string) | undefined>)[a.kind];
  return say ? say(a.facts ?? {}) : a.title;
}

/**
 * Shows `alerts` (or hides the banner when there are none).
 *
 * @example
 * showAlerts(MESSAGES.es, await api.listAlerts(), (iso) => new Date(iso).toLocaleString('es'));
 */
export function showAlerts(m: Messages, alerts: AlertView[], formatTime: (iso: string) => string): void {
  const banner = bannerElement();
  if (!alerts.length) {
    banner.hidden = true;
    replaceChildren(banner);
    return;
  }
  const heading = m.alerts.heading(alerts.length);
  banner.setAttribute('aria-label', heading);
  replaceChildren(
    banner,
    h('h2', { class: 'alerts-heading' }, heading),
    h(
      'ul',
      { class: 'alerts-list' },
      ...alerts.map((a) =>
        h(
          'li',
          {
            class: `alert ${a.severity === 'critical' ? 'bad' : 'warn'}`,
            'data-kind': a.kind as AlertKindKey,
          },
          h('span', { class: 'alert-text' }, alertSentence(m, a)),
          ' ',
          h('span', { class: 'alert-since' }, m.alerts.since(formatTime(a.openedAt))),
          a.channelId
            ? h(
                'a',
                { class: 'alert-link', href: `#/channels/${encodeURIComponent(a.channelId)}` },
                m.alerts.openChannel(String(a.facts?.channel ?? a.channelId)),
              )
            : null,
        ),
      ),
    ),
  );
  banner.hidden = false;
}

/** Reads the open alerts and shows them; a failed read hides the banner. */
export async function refreshAlerts(
  m: () => Messages,
  load: () => Promise<AlertView[]>,
  formatTime: (iso: string) => string,
): Promise<void> {
  let alerts: AlertView[] = [];
  try {
    alerts = await load();
  } catch {
    // the page itself shows what is wrong with the API
  }
  showAlerts(m(), alerts, formatTime);
}

/** Hides the banner (signed out). */
export function hideAlerts(): void {
  const banner = document.getElementById(BANNER_ID);
  if (banner) {
    banner.hidden = true;
    replaceChildren(banner);
  }
}
