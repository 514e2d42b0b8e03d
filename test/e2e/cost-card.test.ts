/**
 * The console's cost card (issue 20 item 5) in headless Chromium against the local stack
 * (`startLocal({ memory: true })`, the `api` function only): a channel's month of X spend is written
 * through the spend meter's real DynamoDB adapter (what the poller and sender write), its budget is set
 * through the admin API, and the card shows month to date, projection, the budget bar in its 80 % and
 * 100 % states, and plan advice — in English and Spanish, axe clean; a budget edited in the card is what
 * the API then reports. The channel list's app-wide card shows the app's month and edits the app's
 * budget (`GET|PATCH /settings`) the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM, requireChromium, seriousA11yViolations } from '../helpers/browser';
import { createDynamoSpendLedger } from '../../adapters/aws/dynamo-spend';
import { priceItem, type Billable } from '../../core/cost/billable';
import { X_PRICES } from '../../core/cost/prices';
import type { LocalStack } from '../../local/start-local';
import { startApiOnly } from '../helpers/local-stack';

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];

jest.setTimeout(60_000);

describe('console cost card', () => {
  let dataDir: string;
  let userDataDir: string;
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  let channelId: string;
  const tableName = `xc-cost-card-${process.pid}-${Date.now()}`;
  const local = () => stack.localJson;
  const consoleUrl = (p: string) => new URL(p, local().adminUrl).toString();
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${local().apiUrl}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${local().adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  beforeAll(async () => {
    requireChromium();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-cost-card-'));
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'xc-chromium-'));
    stack = await startApiOnly({ dataDir, tableName });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();

    // a channel, and this month's X spend written by the meter's own adapter: 36 post reads ($0.18),
    // 2 replies ($0.02), 2 delivered DM events ($0.02) = $0.22
    const created = await api('POST', '/channels', {
      name: 'Cost desk',
      listenMentions: true,
      listenDms: true,
      autoFollow: false,
    });
    expect(created.status).toBe(201);
    channelId = created.body.id;
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: local().endpoints.dynamodb,
        region: local().region,
        credentials: local().credentials,
      }),
    );
    const ledger = createDynamoSpendLedger({ client: doc, tableName });
    const billables: Billable[] = [
      ...Array.from({ length: 36 }, (_, i) => ({ type: 'read', kind: 'postRead', id: `9${i}` }) as const),
      { type: 'write', kind: 'reply' },
      { type: 'write', kind: 'reply' },
      { type: 'event', eventType: 'dm.received', id: 'dm1' },
      { type: 'event', eventType: 'dm.received', id: 'dm2' },
    ];
    const recorded = await ledger.record(
      channelId,
      new Date(),
      billables.map((b) => priceItem(b, X_PRICES)),
    );
    expect(recorded.micros).toBe(220_000);
    doc.destroy();
    // $0.25: 88 % used, the warning state
    expect((await api('PATCH', `/channels/${channelId}`, { monthlyBudgetUsd: 0.25 })).status).toBe(200);
    await page.goto(local().adminLoginUrl);
    await page.getByRole('heading', { name: 'Channels', exact: true }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    for (const dir of [dataDir, userDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows month to date, the budget bar at 80 % and plan advice, in English and Spanish, axe clean', async () => {
    await page.goto(consoleUrl(`/#/channels/${channelId}`));
    const card = page.locator('#cost');
    await card.getByRole('heading', { name: 'X cost this month' }).waitFor();
    await card.locator('#cost-mtd', { hasText: '$0.22' }).waitFor();
    const cost = (await api('GET', `/channels/${channelId}/cost`)).body;
    expect(await card.locator('#cost-projected').textContent()).toContain(cost.x.projectedUsd.toFixed(2));
    expect(await card.locator('#budget-used').textContent()).toBe('$0.22 of $0.25 used (88 %)');
    expect(await card.locator('#budget-meter').getAttribute('value')).toBe('88');
    expect(await card.locator('#cost-budget').getAttribute('data-state')).toBe('warning');
    await card.getByText('Warning: 80 % or more of the budget is used.').waitFor();
    // plan advice: every plan priced, the cheapest named, what drives the cost
    const ppu = card.locator('tr[data-plan="payPerUse"]');
    expect(await ppu.textContent()).toContain(`$${cost.plans.plans[0].usdPerMonth.toFixed(2)}`);
    await card.locator(`tr[data-plan="${cost.plans.cheapest}"] .cheapest`).waitFor();
    await card.locator('#cost-drivers', { hasText: 'Listening to mentions' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel('Language').selectOption('es');
    await card.getByRole('heading', { name: 'Costo de X este mes' }).waitFor();
    await card.getByText('Aviso: se usó el 80 % o más del presupuesto.').waitFor();
    expect(await card.locator('#budget-used').textContent()).toMatch(/0,22\s*US\$ de 0,25\s*US\$ usado/);
    await card.locator('tr[data-plan="payPerUse"]', { hasText: 'Pago por uso' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Idioma').selectOption('en');
    await card.getByRole('heading', { name: 'X cost this month' }).waitFor();
  });

  it('a budget edited in the card is the API’s; at 100 % it says what the channel does now (en, es)', async () => {
    await page.goto(consoleUrl(`/#/channels/${channelId}`));
    const card = page.locator('#cost');
    await card.locator('#cost-mtd', { hasText: '$0.22' }).waitFor();
    await card.getByLabel('Monthly X budget in USD').fill('0.2');
    await card.getByRole('button', { name: 'Save budget' }).click();
    await card.locator('#cost-budget[data-state="exhausted"]').waitFor();
    await card.getByText('Budget saved.').waitFor();
    await card.getByText('Budget used up.').waitFor();
    await card.getByText(/Reconciliation polling is slowed to its floor; real time stays on/).waitFor();
    expect(await card.locator('#budget-meter').getAttribute('value')).toBe('100');
    const cost = (await api('GET', `/channels/${channelId}/cost`)).body;
    expect(cost.budget).toMatchObject({ monthlyUsd: 0.2, state: 'exhausted' });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel('Language').selectOption('es');
    await card.getByText('Presupuesto agotado.').waitFor();
    await card.getByText(/La consulta de conciliación se reduce a su mínimo/).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    // a bad amount is refused in words, nothing saved
    await card.getByLabel('Presupuesto mensual de X en USD').fill('-3');
    await card.getByRole('button', { name: 'Guardar presupuesto' }).click();
    await card.getByText('Escribe un importe en USD, 0 o más.').waitFor();
    expect((await api('GET', `/channels/${channelId}/cost`)).body.budget.monthlyUsd).toBe(0.2);
    // removed: no budget, no bar
    await card.getByRole('button', { name: 'Quitar presupuesto' }).click();
    await card.getByText('Sin presupuesto: el gasto en X no tiene tope.').waitFor();
    expect(await card.locator('#budget-meter').count()).toBe(0);
    expect((await api('GET', `/channels/${channelId}/cost`)).body.budget.state).toBe('none');
    await page.getByLabel('Idioma').selectOption('en');
  });

  it('the channel list shows the app’s month and edits the app-wide budget (en, es), axe clean', async () => {
    await page.goto(consoleUrl('/#/'));
    const card = page.locator('#app-cost');
    await card.getByRole('heading', { name: 'X cost this month, all channels' }).waitFor();
    // the app's month: every channel's spend together (here the one channel's $0.22)
    await card.locator('#app-cost-mtd', { hasText: '$0.22' }).waitFor();
    const before = (await api('GET', '/settings')).body;
    expect(before.monthlyBudgetUsd).toBeNull();
    expect(await card.locator('#app-cost-projected').textContent()).toContain(
      before.cost.x.projectedUsd.toFixed(2),
    );
    await card.getByText('No budget set: X spend is not capped.').waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);

    await card.getByLabel('App-wide monthly X budget in USD').fill('0.2');
    await card.getByRole('button', { name: 'Save budget' }).click();
    await card.locator('#app-cost-budget[data-state="exhausted"]').waitFor();
    await card.getByText('Budget saved.').waitFor();
    await card.getByText(/Every channel now slows reconciliation polling to its floor/).waitFor();
    expect(await card.locator('#app-budget-meter').getAttribute('value')).toBe('100');
    expect(await card.locator('#app-budget-used').textContent()).toBe('$0.22 of $0.20 used (110 %)');
    const settings = (await api('GET', '/settings')).body;
    expect(settings.monthlyBudgetUsd).toBe(0.2);
    expect(settings.cost.budget).toMatchObject({ monthlyUsd: 0.2, state: 'exhausted' });
    expect(await seriousA11yViolations(page)).toEqual([]);

    await page.getByLabel('Language').selectOption('es');
    await card.getByRole('heading', { name: 'Costo de X este mes, todos los canales' }).waitFor();
    await card.getByText('Presupuesto agotado.').waitFor();
    await card.getByText(/Todos los canales reducen ahora la consulta de conciliación/).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    // a bad amount is refused in words, nothing saved
    await card.getByLabel('Presupuesto mensual de X de toda la aplicación en USD').fill('-1');
    await card.getByRole('button', { name: 'Guardar presupuesto' }).click();
    await card.getByText('Escribe un importe en USD, 0 o más.').waitFor();
    expect((await api('GET', '/settings')).body.monthlyBudgetUsd).toBe(0.2);
    await card.getByRole('button', { name: 'Quitar presupuesto' }).click();
    await card.getByText('Sin presupuesto: el gasto en X no tiene tope.').waitFor();
    expect((await api('GET', '/settings')).body.monthlyBudgetUsd).toBeNull();
    await page.getByLabel('Idioma').selectOption('en');
    await card.getByRole('heading', { name: 'X cost this month, all channels' }).waitFor();
  });
});
