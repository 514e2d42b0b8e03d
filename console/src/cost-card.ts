/**
 * The cost card of a channel (issue 20 item 5): X spend this month and its projection (AWS beside it),
 * the monthly X budget as a bar with its 80 % warning and 100 % state (and what the channel does then),
 * the budget editable in place, and plan advice — all from `GET /channels/{id}/cost` (the spend meter's
 * counters) and, at 100 %, the floor the poller reported on the channel's health. Text from
 * `COST_MESSAGES` (console/i18n.ts) only. The same card for the whole app (`appCostCard`, on the channel
 * list): the app's month from `GET /settings` and the app-wide budget (`PATCH /settings`); no plan advice.
 */
import { COST_MESSAGES, type CostMessages, type Lang } from '../i18n';
import { h, replaceChildren } from './dom';

/** What the card needs from the admin API client (./api.ts). */
export interface CostApi {
  getCost(id: string): Promise<unknown>;
  getRawHealth(id: string): Promise<unknown>;
  setBudget(id: string, monthlyBudgetUsd: number | null): Promise<void>;
}

type PlanName = keyof CostMessages['planNames'];
type DriverName = keyof CostMessages['driverNames'];

interface CostView {
  x: { monthToDateUsd: number; projectedUsd: number };
  aws: { monthToDateUsd: number; projectedUsd: number };
  budget: { monthlyUsd: number | null; usedUsd: number; usedPercent: number | null; state: string };
  plans: {
    cheapest: string;
    plans: Array<{ plan: PlanName; usdPerMonth: number; fits: boolean }>;
    drivers: Array<{ driver: DriverName; usdPerMonth: number }>;
  };
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Parses the cost answer leniently (unknown fields ignored, missing numbers 0). */
export function toCost(raw: unknown): CostView {
  const r = obj(raw);
  const x = obj(r.x);
  const aws = obj(r.aws);
  const b = obj(r.budget);
  const p = obj(r.plans);
  const m = COST_MESSAGES.en;
  return {
    x: { monthToDateUsd: num(x.monthToDateUsd), projectedUsd: num(x.projectedUsd) },
    aws: { monthToDateUsd: num(aws.monthToDateUsd), projectedUsd: num(aws.projectedUsd) },
    budget: {
      monthlyUsd: typeof b.monthlyUsd === 'number' ? b.monthlyUsd : null,
      usedUsd: num(b.usedUsd),
      usedPercent: typeof b.usedPercent === 'number' ? b.usedPercent : null,
      state: typeof b.state === 'string' ? b.state : 'none',
    },
    plans: {
      cheapest: typeof p.cheapest === 'string' ? p.cheapest : '',
      plans: (Array.isArray(p.plans) ? p.plans : [])
        .map(obj)
        .filter((e) => typeof e.plan === 'string' && e.plan in m.planNames)
        .map((e) => ({ plan: e.plan as PlanName, usdPerMonth: num(e.usdPerMonth), fits: e.fits === true })),
      drivers: (Array.isArray(p.drivers) ? p.drivers : [])
        .map(obj)
        .filter((e) => typeof e.driver === 'string' && e.driver in m.driverNames)
        .map((e) => ({ driver: e.driver as DriverName, usdPerMonth: num(e.usdPerMonth) })),
    },
  };
}

function money(usd: number, lang: Lang): string {
  const small = usd > 0 && usd < 0.01;
  return new Intl.NumberFormat(lang === 'es' ? 'es-ES' : 'en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
    maximumFractionDigits: small ? 4 : 2,
  }).format(usd);
}

/** The floor the poller reported (`health.budget.floor`) in words, or null. */
function floorOf(rawHealth: unknown, m: CostMessages): { words: string | null; app: boolean } {
  const b = obj(obj(rawHealth).budget);
  const f = obj(b.floor);
  const words =
    typeof f.mentionsSeconds === 'number' && typeof f.dmsSeconds === 'number'
      ? m.floorWords(f.mentionsSeconds, f.dmsSeconds)
      : null;
  return { words, app: b.state === 'exhausted' && b.scope === 'app' };
}

/** What the app-wide card needs from the admin API client (./api.ts). */
export interface AppCostApi {
  getSettings(): Promise<unknown>;
  setAppBudget(monthlyBudgetUsd: number | null): Promise<void>;
}

/** One card's source: a channel's cost or the app's, and its element ids' prefix. */
interface CardInput {
  lang: Lang;
  app: boolean;
  /** '' for the channel's card (ids `cost`, `budget-input`, …), `app-` for the app's. */
  prefix: string;
  getCost(): Promise<unknown>;
  getRawHealth(): Promise<unknown>;
  setBudget(monthlyBudgetUsd: number | null): Promise<void>;
}

/**
 * The card: a section filled once the cost has loaded (`onChange` after a budget was saved re-renders it).
 *
 * @example
 * main.append(costCard({ api, channelId: 'ch_…', lang: 'es' }));
 */
export function costCard(input: { api: CostApi; channelId: string; lang: Lang }): HTMLElement {
  const { api, channelId } = input;
  return card({
    lang: input.lang,
    app: false,
    prefix: '',
    getCost: () => api.getCost(channelId),
    getRawHealth: () => api.getRawHealth(channelId),
    setBudget: (value) => api.setBudget(channelId, value),
  });
}

/**
 * The app-wide card (the channel list): the month of every channel together and the app's budget.
 *
 * @example
 * main.append(appCostCard({ api, lang: 'en' }));
 */
export function appCostCard(input: { api: AppCostApi; lang: Lang }): HTMLElement {
  const { api } = input;
  return card({
    lang: input.lang,
    app: true,
    prefix: 'app-',
    getCost: async () => obj(await api.getSettings()).cost,
    getRawHealth: async () => null,
    setBudget: (value) => api.setAppBudget(value),
  });
}

function card(input: CardInput): HTMLElement {
  const m = COST_MESSAGES[input.lang];
  const id = (name: string) => `${input.prefix}${name}`;
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, m.loading));
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': id('cost-title'), id: id('cost') },
    h('h3', { id: id('cost-title') }, input.app ? m.appTitle : m.title),
    input.app ? h('p', { class: 'muted' }, m.appIntro) : null,
    body,
  );
  void load(input, m, body);
  return section;
}

async function load(input: CardInput, m: CostMessages, body: HTMLElement, saved?: string): Promise<void> {
  let cost: CostView;
  let floor: ReturnType<typeof floorOf> = { words: null, app: false };
  try {
    cost = toCost(await input.getCost());
    if (cost.budget.state === 'exhausted') floor = floorOf(await input.getRawHealth().catch(() => null), m);
  } catch (e) {
    replaceChildren(
      body,
      h('p', { class: 'notice bad' }, m.loadFailed(e instanceof Error ? e.message : String(e))),
    );
    return;
  }
  const $ = (usd: number) => money(usd, input.lang);
  const reload = (message?: string) => void load(input, m, body, message);
  const id = (name: string) => `${input.prefix}${name}`;
  replaceChildren(
    body,
    h(
      'dl',
      { class: 'cost-figures' },
      h('dt', {}, m.monthToDate),
      h('dd', { id: id('cost-mtd') }, $(cost.x.monthToDateUsd)),
      h('dt', {}, m.projected),
      h('dd', { id: id('cost-projected') }, $(cost.x.projectedUsd)),
    ),
    h('p', { class: 'muted' }, m.awsLine($(cost.aws.monthToDateUsd), $(cost.aws.projectedUsd))),
    budgetPart(input, m, cost, floor, $, reload, saved),
    // the app card stays a budget form: plan advice is per channel (and the list page has one table)
    input.app ? null : plansPart(m, cost, $, id),
  );
}

function budgetPart(
  input: CardInput,
  m: CostMessages,
  cost: CostView,
  floor: ReturnType<typeof floorOf>,
  $: (usd: number) => string,
  reload: (message?: string) => void,
  saved?: string,
): HTMLElement {
  const b = cost.budget;
  const id = (name: string) => `${input.prefix}${name}`;
  const state = b.state === 'warning' || b.state === 'exhausted' || b.state === 'ok' ? b.state : null;
  const percent = b.usedPercent ?? 0;
  const usedText = b.monthlyUsd === null ? m.noBudget : m.used($(b.usedUsd), $(b.monthlyUsd), `${percent} %`);
  const field = h('input', {
    id: id('budget-input'),
    type: 'number',
    min: '0',
    step: '0.01',
    inputmode: 'decimal',
    value: b.monthlyUsd === null ? '' : String(b.monthlyUsd),
  });
  const problem = h('p', { id: id('budget-problem'), role: 'status' }, saved ?? '');
  const save = async (value: number | null) => {
    try {
      await input.setBudget(value);
      reload(m.budgetSaved);
    } catch (e) {
      problem.textContent = e instanceof Error ? e.message : String(e);
      problem.className = 'save-state bad';
    }
  };
  return h(
    'div',
    { class: 'budget', id: id('cost-budget'), 'data-state': b.state },
    h('h4', {}, m.budget),
    b.monthlyUsd === null
      ? null
      : h('meter', {
          id: id('budget-meter'),
          min: 0,
          max: 100,
          low: 80,
          high: 99.99,
          optimum: 0,
          value: Math.min(100, percent),
          'aria-label': usedText,
        }),
    h('p', { id: id('budget-used') }, usedText),
    state
      ? h(
          'div',
          {
            class: state === 'ok' ? 'notice ok' : state === 'warning' ? 'notice warn' : 'notice bad',
            id: id('budget-state'),
          },
          h('p', {}, m.state[state]),
          state === 'exhausted'
            ? h('p', {}, input.app ? m.appExhaustedHelp : m.exhaustedHelp(floor.words))
            : null,
          state === 'exhausted' && floor.app ? h('p', {}, m.appBudgetDecides) : null,
        )
      : null,
    h(
      'form',
      {
        class: 'row',
        // our own message, in the console's language, instead of the browser's
        novalidate: true,
        onsubmit: (event: Event) => {
          event.preventDefault();
          const value = Number(field.value);
          if (field.value.trim() === '' || !Number.isFinite(value) || value < 0) {
            problem.textContent = m.budgetInvalid;
            problem.className = 'save-state bad';
            return;
          }
          void save(value);
        },
      },
      h('label', { for: id('budget-input') }, input.app ? m.appBudgetInput : m.budgetInput),
      field,
      h('button', { type: 'submit', class: 'button' }, m.saveBudget),
      b.monthlyUsd === null
        ? null
        : h(
            'button',
            { type: 'button', class: 'button secondary', onclick: () => void save(null) },
            m.removeBudget,
          ),
    ),
    problem,
  );
}

function plansPart(
  m: CostMessages,
  cost: CostView,
  $: (usd: number) => string,
  id: (name: string) => string,
): HTMLElement {
  const { plans, drivers, cheapest } = cost.plans;
  return h(
    'div',
    { id: id('cost-plans') },
    h('h4', {}, m.plans),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, m.planColumn),
          h('th', { scope: 'col' }, m.perMonthColumn),
          h('th', { scope: 'col' }, m.fitsColumn),
        ),
      ),
      h(
        'tbody',
        {},
        ...plans.map((p) =>
          h(
            'tr',
            { 'data-plan': p.plan },
            h(
              'th',
              { scope: 'row' },
              m.planNames[p.plan],
              p.plan === cheapest ? h('strong', { class: 'cheapest' }, ` (${m.cheapest})`) : null,
              h('br', {}),
              h('span', { class: 'muted' }, m.planNotes[p.plan]),
            ),
            h('td', {}, $(p.usdPerMonth)),
            h('td', {}, p.fits ? m.fits : m.doesNotFit),
          ),
        ),
      ),
    ),
    drivers.length
      ? h(
          'div',
          {},
          h('h4', {}, m.drivers),
          h(
            'ul',
            { id: id('cost-drivers') },
            ...drivers.map((d) => h('li', {}, `${m.driverNames[d.driver]}: ${$(d.usdPerMonth)}`)),
          ),
        )
      : null,
    h('p', { class: 'muted' }, m.basis),
  );
}
