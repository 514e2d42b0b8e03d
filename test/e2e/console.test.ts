/**
 * Acceptance test of the admin console in headless Chromium against the whole local stack
 * (`startLocal({ memory: true })`: the admin API, the simulated X, the AWS stand-ins), through the
 * real page: sign-in from `adminLoginUrl`, New channel → Sign in with X in a tab that closes itself,
 * switches that persist, the cancel path, a forged callback, accessibility (axe-core), the bundle
 * budget, and "no request to any origin but the console's own".
 *
 * Screenshots (list, configured channel, an error state) go to a temporary directory, removed after
 * the run: tests never write tracked files. `npm run docs:screenshots` runs this file with
 * `XC_SCREENSHOT_DIR` set to docs/ to refresh docs/console-*.png (scripts/docs-screenshots.ts).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM, requireChromium, seriousA11yViolations } from '../helpers/browser';
import { createDynamoRealtimeStore } from '../../adapters/aws/dynamo-realtime';
import { buildConsole } from '../../console/build';
import { createConsoleServer } from '../../console/serve';
import type { LocalStack } from '../../local/start-local';
import { startApiOnly } from '../helpers/local-stack';

/** Where screenshots go: a temporary directory unless `npm run docs:screenshots` names one. */
const SCREENSHOT_DIR_ENV = process.env.XC_SCREENSHOT_DIR;
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

jest.setTimeout(60_000);

describe('admin console in headless Chromium against startLocal({ memory: true })', () => {
  let dataDir: string;
  let userDataDir: string;
  let screenshotDir: string;
  let stack: LocalStack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the console tab asked for (the sign-in tab is another page and is not counted). */
  const consoleRequests: string[] = [];
  let account: { id: string; username: string; name: string };
  const tableName = `xc-console-${process.pid}-${Date.now()}`;

  const local = () => stack.localJson;
  /** A URL on the console's origin (adminUrl may or may not end with a slash). */
  const consoleUrl = (p: string) => new URL(p, local().adminUrl).toString();
  const createSimUser = async (username: string, name: string) => {
    const res = await fetch(`${local().x.controlUrl}/_sim/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, name }),
    });
    expect(res.status).toBeLessThan(300);
    return { id: ((await res.json()) as { id: string }).id, username, name };
  };
  const listChannelsViaApi = async () => {
    const res = await fetch(`${local().apiUrl}/channels`, {
      headers: { authorization: `Bearer ${local().adminToken}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items?: unknown[] } | unknown[];
    return (Array.isArray(body) ? body : (body.items ?? [])) as Array<Record<string, unknown>>;
  };
  beforeAll(async () => {
    requireChromium();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-console-'));
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-chromium-'));
    screenshotDir = SCREENSHOT_DIR_ENV
      ? path.resolve(SCREENSHOT_DIR_ENV)
      : mkdtempSync(path.join(os.tmpdir(), 'xc-console-shots-'));
    mkdirSync(screenshotDir, { recursive: true });
    stack = await startApiOnly({ dataDir, tableName });
    if (!stack.simulatedX) throw new Error(`the simulated X is not running: ${stack.simulatedXProblem}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('request', (r) => consoleRequests.push(r.url()));
    account = await createSimUser(`acme_help_${process.pid % 100000}`, 'Acme Support');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    const temporary = [dataDir, userDataDir, SCREENSHOT_DIR_ENV ? undefined : screenshotDir];
    for (const dir of temporary) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds a self-contained bundle under 100 KB gzipped', async () => {
    const bundle = await buildConsole();
    const gzipped = [bundle.indexHtml, ...[...bundle.assets.values()].map((a) => a.body)].reduce(
      (sum, b) => sum + gzipSync(b).length,
      0,
    );
    expect(gzipped).toBeLessThan(100 * 1024);
    expect(bundle.indexHtml.toString()).not.toMatch(/https?:\/\//);
  });

  it('serves the page with a strict CSP and the right cache and content types', async () => {
    const res = await fetch(consoleUrl('/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).toContain(`img-src 'self' data: https://pbs.twimg.com ${new URL(local().x.baseUrl).origin}`);
    const script = /src="(assets\/app-[0-9a-f]+\.js)"/.exec(await res.text())?.[1];
    expect(script).toBeDefined();
    const js = await fetch(consoleUrl(`/${script}`));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    const config = await fetch(consoleUrl('/assets/config.json'));
    expect(await config.json()).toEqual({ authMode: 'local' });
    expect((await fetch(consoleUrl('/assets/%2e%2e/serve.ts'))).status).toBe(404);
  });

  it('without a token shows a sign-in prompt; adminLoginUrl signs in and leaves no token in the address', async () => {
    await page.goto(local().adminUrl);
    await expect(
      page.getByRole('heading', { name: 'Sign in to manage your X channels' }).isVisible(),
    ).resolves.toBe(true);
    await page.goto(local().adminLoginUrl);
    await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
    expect(page.url()).not.toContain(local().adminToken);
    expect(page.url()).not.toContain('token=');
    expect(page.url()).not.toContain('signin=');
    await page.getByText('No channels yet').waitFor();
  });

  it('the sign-in link works once: opened again in another browser it says so and signs nothing in', async () => {
    const other = await browser.newContext({ locale: 'en-US' });
    try {
      const p = await other.newPage();
      await p.goto(local().adminLoginUrl);
      await p.getByText('This sign-in link was already used; each link works once.').waitFor();
      expect(await p.getByRole('heading', { name: 'Sign in to manage your X channels' }).isVisible()).toBe(
        true,
      );
      expect(p.url()).not.toContain('signin=');
    } finally {
      await other.close();
    }
  });

  /** A fresh browser context whose console believes it runs with Cognito (config.json answered so). */
  const cognitoContext = async (lang = 'en-US') => {
    const ctx = await browser.newContext({ locale: lang });
    await ctx.route('**/assets/config.json', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          authMode: 'cognito',
          cognito: { domain: 'https://admins.auth.example.invalid', clientId: 'abc123' },
        }),
      }),
    );
    return ctx;
  };
  const ATTACKER_TEXT = 'Your account is locked. Call +1 555 0100 to unlock it';

  it('a sign-in service error shows a fixed message for its code, never the address’s error_description (en, es)', async () => {
    const ctx = await cognitoContext();
    try {
      const p = await ctx.newPage();
      const attacker = encodeURIComponent(ATTACKER_TEXT);
      await p.goto(consoleUrl(`/?error=access_denied&error_description=${attacker}&state=x`));
      await p.getByText('Sign-in was cancelled. Sign in again to continue.').waitFor();
      expect(await p.locator('body').innerText()).not.toContain('Call +1 555 0100');
      expect(p.url()).not.toContain('error');

      await p.goto(consoleUrl(`/?error=server_error&error_description=${attacker}`));
      await p.getByText('The sign-in service refused the sign-in (error code: server_error).').waitFor();
      expect(await p.locator('body').innerText()).not.toContain('Call +1 555 0100');

      // an "error code" that is not one is not repeated either
      await p.goto(consoleUrl(`/?error=${attacker}`));
      await p.getByText('The sign-in service refused the sign-in. Sign in again to continue.').waitFor();
      expect(await p.locator('body').innerText()).not.toContain('Call +1 555 0100');
    } finally {
      await ctx.close();
    }
    const es = await cognitoContext('es-ES');
    try {
      const p = await es.newPage();
      await p.goto(
        consoleUrl(`/?error=access_denied&error_description=${encodeURIComponent(ATTACKER_TEXT)}`),
      );
      await p.getByText('Se canceló el inicio de sesión.').waitFor();
      expect(await p.locator('body').innerText()).not.toContain('Call +1 555 0100');
    } finally {
      await es.close();
    }
  });

  it('in Cognito mode a sign-in link or token in the address signs nothing in and is not even redeemed', async () => {
    const link = new URL(stack.newSignInLink().url);
    const ctx = await cognitoContext();
    const requests: string[] = [];
    try {
      const p = await ctx.newPage();
      p.on('request', (r) => requests.push(r.url()));
      await p.goto(consoleUrl(`/${link.hash}`));
      await p.getByText('Sign in with your administrator account to continue.').waitFor();
      await p.goto(consoleUrl(`/#token=${encodeURIComponent(local().adminToken)}`));
      await p.getByText('Sign in with your administrator account to continue.').waitFor();
      expect(await p.evaluate(() => sessionStorage.getItem('x-channel.token'))).toBeNull();
      expect(requests.filter((u) => u.includes('/_local/sign-in'))).toEqual([]);
      expect(requests.filter((u) => new URL(u).pathname.startsWith('/channels'))).toEqual([]);
    } finally {
      await ctx.close();
    }
    // the same link still works in local mode: it was ignored, not spent
    const localCtx = await browser.newContext({ locale: 'en-US' });
    try {
      const p = await localCtx.newPage();
      await p.goto(link.toString());
      await p.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
    } finally {
      await localCtx.close();
    }
  });

  it('New channel → Sign in with X opens X in a tab that closes itself, then shows the account; auto-follow persists', async () => {
    await page.getByRole('link', { name: 'New channel' }).click();
    await page.getByRole('heading', { name: 'Configure X channel' }).waitFor();
    await page.getByLabel('Channel name (optional)').fill('Support desk');
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Sign in with X' }).click(),
    ]);
    await popup.waitForURL((u) => u.pathname === '/i/oauth2/authorize');
    expect(new URL(popup.url()).origin).toBe(new URL(local().x.baseUrl).origin);
    await page.locator('#sign-in-notice', { hasText: 'Waiting for you to authorize the app' }).waitFor();
    await popup.check(`input[name="username"][value="${account.username}"]`);
    await Promise.all([popup.waitForEvent('close'), popup.click('button[name="decision"][value="allow"]')]);
    expect(popup.isClosed()).toBe(true);

    await page.locator('#account-id').waitFor();
    expect(await page.locator('#account-name').textContent()).toBe(account.name);
    expect(await page.locator('#account-username').textContent()).toBe(`@${account.username}`);
    expect(await page.locator('#account-id').textContent()).toBe(account.id);
    expect(await page.locator('.badge').first().textContent()).toBe('Active');
    expect(await page.locator('#announcer').textContent()).toContain(`@${account.username}`);

    const autoFollow = page.getByRole('switch', {
      name: 'Follow users who mention the account automatically',
    });
    expect(await autoFollow.isChecked()).toBe(false);
    await autoFollow.check();
    await page.locator('#switch-autoFollow-state', { hasText: 'Saved' }).waitFor();
    await page.screenshot({ path: path.join(screenshotDir, 'console-channel.png'), fullPage: true });

    await page.reload();
    await page.locator('#account-id').waitFor();
    expect(
      await page
        .getByRole('switch', { name: 'Follow users who mention the account automatically' })
        .isChecked(),
    ).toBe(true);
    const [stored] = (await listChannelsViaApi()).filter(
      (c) => (c.account as { id?: string })?.id === account.id,
    );
    expect(stored.autoFollow).toBe(true);
  });

  it('lists the channel with avatar, name, @username, status in words and health counters', async () => {
    await page.getByRole('link', { name: 'All channels' }).click();
    const row = page.locator('tbody tr').first();
    await row.waitFor();
    expect(await row.getByRole('img', { name: `Avatar of ${account.name}` }).textContent()).toBe('AS');
    expect(await row.textContent()).toContain(`@${account.username}`);
    expect(await row.locator('.badge').textContent()).toBe('Active');
    await page.screenshot({ path: path.join(screenshotDir, 'console-list.png'), fullPage: true });
  });

  it('Cancel at X: the tab closes, the console says it was cancelled and offers to try again', async () => {
    await page.getByRole('link', { name: 'New channel' }).click();
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Sign in with X' }).click(),
    ]);
    await popup.waitForURL((u) => u.pathname === '/i/oauth2/authorize');
    await Promise.all([popup.waitForEvent('close'), popup.click('button[name="decision"][value="deny"]')]);
    await page
      .locator('#sign-in-notice', { hasText: 'You cancelled at X, so no account was connected.' })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true);
    expect(await page.locator('.badge').first().textContent()).toBe('Pending sign-in');
    await page.screenshot({ path: path.join(screenshotDir, 'console-error.png'), fullPage: true });
  });

  it('closing the X tab without deciding: the console says so and offers to try again', async () => {
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      page.getByRole('button', { name: 'Try again' }).click(),
    ]);
    await popup.waitForURL((u) => u.pathname === '/i/oauth2/authorize');
    await popup.close();
    await page
      .locator('#sign-in-notice', { hasText: 'The X tab was closed before you authorized the app.' })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true);
  });

  it('a callback with a bad state shows an error and changes nothing', async () => {
    const before = await listChannelsViaApi();
    const stray = await context.newPage();
    const res = await stray.goto(`${local().apiUrl}/oauth/callback?state=bogus&code=x`);
    expect(res?.status()).toBeGreaterThanOrEqual(400);
    expect(res?.status()).toBeLessThan(500);
    expect(await stray.locator('body').textContent()).toMatch(/not completed/i);
    await stray.close().catch(() => undefined);
    expect(await listChannelsViaApi()).toEqual(before);
    // The console tab heard the broadcast too and ignored it: its notice is unchanged.
    expect(await page.locator('#sign-in-notice').textContent()).toContain(
      'The X tab was closed before you authorized the app.',
    );
  });

  it('has no serious or critical axe-core violations (error state, list, configured channel)', async () => {
    const problems: string[] = [];
    problems.push(...(await seriousA11yViolations(page)));
    await page.goto(consoleUrl('/#/'));
    await page.locator('tbody tr').first().waitFor();
    problems.push(...(await seriousA11yViolations(page)));
    await page.getByRole('link', { name: 'Configure Support desk' }).click();
    await page.locator('#account-id').waitFor();
    problems.push(...(await seriousA11yViolations(page)));
    expect(problems).toEqual([]);
  });

  it('shows real time as the API reports it: on, or off with the reason in words, the subscriptions and the encrypted DMs', async () => {
    // two XChat messages delivered as encrypted DMs, counted by the webhook's own adapter
    const [desk] = (await listChannelsViaApi()).filter((c) => c.name === 'Support desk');
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: local().endpoints.dynamodb,
        region: local().region,
        credentials: local().credentials,
      }),
    );
    await createDynamoRealtimeStore({ client: doc, tableName }).countEncrypted(String(desk.id), 2);
    doc.destroy();
    await page.reload();
    const realtime = page.locator('#realtime');
    await realtime.waitFor();
    const [channel] = (await listChannelsViaApi()).filter((c) => c.name === 'Support desk');
    const api = channel.realtime as {
      state: string;
      reasonCode: string | null;
      subscriptions: Array<{ eventType: string }>;
      encryptedDms: number;
    };
    expect(api.encryptedDms).toBe(2);
    expect(await realtime.locator('#realtime-encrypted').textContent()).toBe('2');
    await realtime.getByText('Encrypted DMs (XChat)').waitFor();
    await realtime.getByText(/X does not let x-channel read encrypted XChat messages/).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(await realtime.getAttribute('data-state')).toBe(api.state);
    expect(await realtime.getByRole('heading', { name: 'Real time' }).isVisible()).toBe(true);
    const text = (await realtime.textContent()) ?? '';
    if (api.state === 'off') {
      expect(await realtime.getAttribute('data-reason')).toBe(api.reasonCode);
      expect(text).toContain('Off: polling only.');
    } else expect(text).toContain('mentions and direct messages arrive within seconds');
    for (const s of api.subscriptions) expect(text).toContain(s.eventType);
  });

  it('pause and resume change the status badge; delete asks first and removes the channel', async () => {
    await page.goto(consoleUrl('/#/'));
    await page.getByRole('link', { name: 'Configure Support desk' }).click();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('.badge', { hasText: 'Paused' }).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('.badge', { hasText: 'Active' }).waitFor();

    await page.goto(consoleUrl('/#/'));
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    const before = await rows.count();
    const pending = page.locator('tbody tr', { hasText: 'Pending sign-in' }).first();
    await pending.getByRole('link').click();
    await page.getByRole('button', { name: 'Delete channel' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this channel?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Delete channel' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
    await page.waitForFunction((n) => document.querySelectorAll('tbody tr').length === n, before - 1);
    expect((await listChannelsViaApi()).length).toBe(before - 1);
    // Back to the configured channel for the following tests.
    await page.getByRole('link', { name: 'Configure Support desk' }).click();
    await page.locator('#account-id').waitFor();
  });

  it('is usable with the keyboard: the switches toggle with Space and focus is visible', async () => {
    const toggle = page.locator('#switch-listenDms');
    const before = await toggle.isChecked();
    await toggle.focus();
    await page.keyboard.press('Space');
    await page.locator('#switch-listenDms-state', { hasText: 'Saved' }).waitFor();
    expect(await toggle.isChecked()).toBe(!before);
    const outline = await toggle.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Space');
    await page.locator('#switch-listenDms-state', { hasText: 'Saved' }).waitFor();
  });

  it('speaks Spanish: chosen from the switch, kept on reload', async () => {
    await page.getByLabel('Language').selectOption('es');
    await page
      .getByRole('switch', { name: 'Seguir automáticamente a los usuarios que mencionen la cuenta' })
      .waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
    await page.reload();
    await page.getByRole('heading', { name: 'Estado de funcionamiento' }).waitFor();
    await page.getByRole('heading', { name: 'Tiempo real' }).waitFor();
    expect(await page.locator('#realtime').textContent()).toMatch(/^Tiempo real(Activado|Desactivado)/);
    await page.locator('#realtime').getByText('Mensajes directos cifrados (XChat)').waitFor();
    expect(await page.locator('#realtime-encrypted').textContent()).toBe('2');
    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('heading', { name: 'Health' }).waitFor();
  });

  it('picks Spanish from navigator.language for a new visitor', async () => {
    const es = await browser.newContext({ locale: 'es-CO' });
    const p = await es.newPage();
    await p.goto(local().adminUrl);
    await p.getByRole('heading', { name: 'Inicia sesión para administrar tus canales de X' }).waitFor();
    await es.close();
  });

  it('shows a channel deleted while X was down as "deleted, revocation pending" (en, es) and discards its grant on request', async () => {
    // Prepare: the record a delete during an X outage leaves (core/revocations.ts)
    const channelId = 'ch_pendingrevocationabc';
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: local().endpoints.dynamodb,
        region: local().region,
        credentials: local().credentials,
      }),
    );
    const at = new Date().toISOString();
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          pk: 'REVOCATION',
          sk: channelId,
          type: 'revocation',
          channelId,
          name: 'Old desk',
          account: { id: '999', username: 'old_desk', name: 'Old', avatarUrl: null },
          deletedAt: at,
          attempts: 2,
          lastAttemptAt: at,
          lastError: 'x_unavailable',
        },
      }),
    );
    // Act + Assess: listed in English, then in Spanish
    await page.goto(consoleUrl('/#/'));
    const item = page.locator(`[data-pending-id="${channelId}"]`);
    await item.getByText('Deleted, revocation pending').waitFor();
    expect(await item.textContent()).toContain('2 attempt(s), last error: x_unavailable');
    await page.getByLabel('Language').selectOption('es');
    await item.getByText('Eliminado, revocación pendiente').waitFor();
    await page.getByLabel('Idioma').selectOption('en');
    await item.getByText('Deleted, revocation pending').waitFor();
    // Discard asks first, then removes it
    page.once('dialog', (d) => void d.accept());
    await item.getByRole('button', { name: 'Discard grant' }).click();
    await item.waitFor({ state: 'detached' });
    const left = await doc.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'REVOCATION', sk: channelId } }),
    );
    expect(left.Item).toBeUndefined();
    doc.destroy();
    // Leave the list, so that the next test's visit of #/ is a navigation.
    await page.goto(consoleUrl('/#/new'));
  });

  it('a 401 from the API signs the console out with a clear message', async () => {
    // A list render still waiting for the API (here its health reads are held back) must not paint over the
    // signed-out view when its answers arrive after the 401 (it did: the list showed while signed out).
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let heldReads = 0;
    let heldSeen = () => {};
    const firstHeld = new Promise<void>((resolve) => (heldSeen = resolve));
    await page.route('**/channels/*/health', async (route) => {
      heldReads++;
      heldSeen();
      await held;
      await route.continue();
    });
    await page.goto(consoleUrl('/#/'));
    await firstHeld;
    await page.goto(consoleUrl('/#/new'));
    await page.evaluate(() =>
      sessionStorage.setItem('x-channel.token', JSON.stringify({ token: 'not-the-token' })),
    );
    await page.goto(consoleUrl('/#/'));
    await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
    const answered = page.waitForResponse((r) =>
      /\/channels\/[^/]+\/health$/.test(new URL(r.url()).pathname),
    );
    release();
    expect((await answered).status()).toBe(200);
    await page.unroute('**/channels/*/health');
    expect(heldReads).toBeGreaterThan(0);
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
    expect(await page.getByText('Your session has ended. Sign in again to continue.').isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Sign in to manage your X channels' }).isVisible()).toBe(
      true,
    );
  });

  it('made no request to any origin but its own', () => {
    const own = new URL(local().adminUrl).origin;
    const foreign = consoleRequests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== own);
    expect(consoleRequests.length).toBeGreaterThan(5);
    expect(foreign).toEqual([]);
  });
});

describe('createConsoleServer: configuration and routing without a browser', () => {
  const event = (method: string, rawPath: string) =>
    ({ rawPath, requestContext: { http: { method } } }) as unknown as Parameters<
      ReturnType<typeof createConsoleServer>
    >[0];
  const bundle = async () => ({
    indexHtml: Buffer.from('<!doctype html><title>t</title>'),
    assets: new Map([
      [
        'app-abc.js',
        { name: 'app-abc.js', contentType: 'text/javascript; charset=utf-8', body: Buffer.from('1') },
      ],
    ]),
  });

  it('in Cognito mode serves the hosted-UI settings and allows only that origin besides its own in connect-src', async () => {
    const serve = createConsoleServer({
      env: { COGNITO_DOMAIN: 'admins.auth.eu-west-1.amazoncognito.com', COGNITO_CLIENT_ID: 'abc123' },
      loadBundle: bundle,
    });
    const res = (await serve(event('GET', '/assets/config.json'))) as {
      body: string;
      headers: Record<string, string>;
    };
    expect(JSON.parse(res.body)).toEqual({
      authMode: 'cognito',
      cognito: { domain: 'https://admins.auth.eu-west-1.amazoncognito.com', clientId: 'abc123' },
    });
    expect(res.headers['content-security-policy']).toContain(
      "connect-src 'self' https://admins.auth.eu-west-1.amazoncognito.com;",
    );
    expect(res.headers['content-security-policy']).toContain("img-src 'self' data: https://pbs.twimg.com;");
  });

  it('names every missing variable when AUTH_MODE=cognito is incomplete', () => {
    let message = '';
    try {
      createConsoleServer({ env: { AUTH_MODE: 'cognito' }, loadBundle: bundle });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('COGNITO_DOMAIN is invalid (is required when AUTH_MODE=cognito)');
    expect(message).toContain('COGNITO_CLIENT_ID is invalid (is required when AUTH_MODE=cognito)');
    expect(() => createConsoleServer({ env: { AUTH_MODE: 'sometimes' }, loadBundle: bundle })).toThrow(
      /AUTH_MODE/,
    );
  });

  it('answers 405 to other methods, 404 to unknown assets and paths, and never serves files by path', async () => {
    const serve = createConsoleServer({ env: {}, loadBundle: bundle });
    const status = async (m: string, p: string) =>
      ((await serve(event(m, p))) as { statusCode: number }).statusCode;
    expect(await status('POST', '/')).toBe(405);
    expect(await status('GET', '/assets/app-abc.js')).toBe(200);
    expect(await status('GET', '/assets/nope.js')).toBe(404);
    expect(await status('GET', '/assets/../../package.json')).toBe(404);
    expect(await status('GET', '/somewhere')).toBe(404);
  });
});
