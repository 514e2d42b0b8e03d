/**
 * The open-alerts banner of the admin console (issue 20, item 5) in headless Chromium against the local
 * stack (`startLocal({ memory: true })`, the api function): alerts written by the evaluator's own store
 * (adapters/aws/dynamo-alerts.ts on DynamoDB Local) are shown above every view in English and Spanish,
 * a channel's alert links to its page, a cleared alert leaves the banner, and axe-core finds no serious
 * or critical violation with the banner shown in either language.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, requireChromium, seriousA11yViolations } from '../helpers/browser';
import { createAwsClients, type AwsClients } from '../../adapters/aws/clients';
import { createDynamoAlertStore } from '../../adapters/aws/dynamo-alerts';
import type { AlertRecord } from '../../core/alerts/evaluate';
import type { LocalStack } from '../../local/start-local';
import { startApiOnly } from '../helpers/local-stack';

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

jest.setTimeout(60_000);

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let browser: Browser;
let page: Page;
let channelId: string;
const tableName = `xc-alerts-ui-${process.pid}-${Date.now()}`;

const record = (over: Partial<AlertRecord> & Pick<AlertRecord, 'id' | 'kind'>): AlertRecord => ({
  severity: 'warning',
  channelId: null,
  title: 'title',
  text: 'text',
  facts: {},
  state: 'open',
  openedAt: '2026-12-07T10:00:00.000Z',
  clearedAt: null,
  consoleUrl: null,
  pending: null,
  leaseUntil: null,
  ...over,
});

beforeAll(async () => {
  requireChromium();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-alerts-ui-'));
  stack = await startApiOnly({ dataDir, tableName });
  const j = stack.localJson;
  clients = createAwsClients({ region: j.region, endpoints: j.endpoints, credentials: j.credentials });
  const created = await fetch(`${j.apiUrl}/channels`, {
    method: 'POST',
    headers: { authorization: `Bearer ${j.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Support', listenMentions: true, listenDms: true, autoFollow: false }),
  });
  channelId = ((await created.json()) as { id: string }).id;
  const store = createDynamoAlertStore({ client: clients.doc, tableName });
  await store.open(
    record({
      id: `needs_reauth:${channelId}`,
      kind: 'needs_reauth',
      severity: 'critical',
      channelId,
      facts: { channel: '@acme_support', reason: 'X rejected the access token' },
      openedAt: '2026-12-07T11:00:00.000Z',
    }),
  );
  await store.open(
    record({
      id: 'dlq_not_empty:outbound',
      kind: 'dlq_not_empty',
      facts: { queue: 'outbound', messages: 3 },
    }),
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  context.setDefaultTimeout(10_000);
  page = await context.newPage();
  await page.goto(j.adminLoginUrl);
  await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  clients?.dynamodb.destroy();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('shows the open alerts in English, a channel’s with a link to its page, axe clean', async () => {
  const banner = page.getByRole('region', { name: '2 open alerts' });
  await banner.waitFor();
  const items = banner.getByRole('listitem');
  await expect(items.nth(0).textContent()).resolves.toContain(
    '@acme_support: sign in with X again. Nothing is read or sent until then.',
  );
  await expect(items.nth(1).textContent()).resolves.toContain(
    '3 message(s) failed every retry and wait on the outbound dead-letter queue.',
  );
  expect(await items.nth(1).getByRole('link').count()).toBe(0);
  expect(await seriousA11yViolations(page)).toEqual([]);
  await items.nth(0).getByRole('link', { name: 'Open @acme_support' }).click();
  await page.waitForURL(`**/#/channels/${channelId}`);
  // the banner stays above the channel's page
  await page.getByRole('region', { name: '2 open alerts' }).waitFor();
});

it('speaks Spanish, axe clean', async () => {
  await page.getByLabel('Language').selectOption('es');
  const banner = page.getByRole('region', { name: '2 alertas abiertas' });
  await banner.waitFor();
  await expect(banner.getByRole('listitem').nth(0).textContent()).resolves.toContain(
    '@acme_support: inicie sesión con X de nuevo.',
  );
  await expect(banner.getByRole('link', { name: 'Abrir @acme_support' }).count()).resolves.toBe(1);
  await expect(banner.getByRole('listitem').nth(1).textContent()).resolves.toContain(
    'cola de mensajes fallidos outbound',
  );
  expect(await seriousA11yViolations(page)).toEqual([]);
  await page.getByLabel('Idioma').selectOption('en');
});

it('a cleared alert leaves the banner; with none open the banner is gone', async () => {
  const store = createDynamoAlertStore({ client: clients.doc, tableName });
  const clear = async (id: string) => {
    const r = (await store.list()).find((a) => a.id === id)!;
    expect(await store.startClear(r, '2026-12-07T12:00:00.000Z', '2026-12-07T12:01:00.000Z')).toBe(true);
    await store.delivered({ ...r, state: 'cleared', pending: 'clear' });
  };
  await clear('dlq_not_empty:outbound');
  await page.goto(new URL('/#/', stack.localJson.adminUrl).toString());
  await page.getByRole('region', { name: '1 open alert' }).waitFor();
  await clear(`needs_reauth:${channelId}`);
  await page.reload();
  await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
  await page.waitForFunction(() => document.getElementById('alerts-banner')?.hidden === true);
  expect(await page.getByRole('region', { name: /open alert/ }).count()).toBe(0);
});
