/**
 * A crowd of simulated customers for demos: at a set rate they mention or DM the signed-in accounts
 * with plausible Spanish/English customer-service texts, and sometimes reply in an existing thread.
 * Uses a seeded generator so a demo can be replayed.
 */
import type { SimX } from './server';

/** Options of {@link startCrowd}. */
export interface CrowdOptions {
  /** Events per minute across all targets. */
  ratePerMinute: number;
  /** Which accounts get the traffic. */
  targets: 'all-signed-in' | string[];
  /** Seed for the generator (default 1). */
  seed?: number;
}

/** A running crowd. */
export interface Crowd {
  /** One event now (what each timer tick does); returns what happened, or null with no target. */
  step(): { kind: 'mention' | 'reply' | 'dm'; targetId: string; id: string } | null;
  stop(): void;
}

const CUSTOMERS = [
  ['lucia_gomez', 'Lucía Gómez'],
  ['mark_t', 'Mark Thompson'],
  ['ana_rdz', 'Ana Rodríguez'],
  ['jpereira', 'João Pereira'],
  ['sam_lee', 'Sam Lee'],
  ['carmen_v', 'Carmen Vidal'],
  ['oliver_b', 'Oliver Brown'],
  ['diego_m', 'Diego Martín'],
] as const;

const OPENERS = [
  'hola, mi pedido {order} no ha llegado todavía, ¿me ayudan?',
  'my order {order} arrived damaged, what can I do?',
  'llevo tres días sin poder entrar en mi cuenta 😞',
  'is there a way to change the delivery address for order {order}?',
  '¿cuándo vuelve a estar disponible la talla M?',
  'I was charged twice for {order}, please check',
  'gracias por la rápida respuesta ayer 🙌',
  'the app keeps crashing when I try to pay',
  'quiero devolver un producto, ¿cuál es el proceso?',
  'do you ship to Portugal?',
];
const FOLLOW_UPS = [
  'sigo esperando, ¿alguna novedad?',
  'thanks! that worked',
  'te acabo de mandar un DM con los datos',
  'still nothing on my side, any update?',
  'perfecto, muchas gracias',
];

/** Starts a crowd driving `sim` (timer-based; unref'd so it never keeps a process alive). */
export function startCrowd(sim: SimX, options: CrowdOptions): Crowd {
  let seed = options.seed ?? 1;
  const random = () => {
    // mulberry32: tiny, seedable, good enough for demo traffic
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];

  const customerIds = () =>
    CUSTOMERS.map(([username, name]) => {
      const existing = sim.state.users.find((u) => u.username.toLowerCase() === username);
      return existing ? existing.id : sim.createUser({ username, name }).id;
    });

  const targets = () =>
    options.targets === 'all-signed-in' ? sim.signedInUsers().map((u) => u.id) : options.targets;

  const step: Crowd['step'] = () => {
    const targetIds = targets();
    if (!targetIds.length) return null;
    const targetId = pick(targetIds);
    const target = sim.state.users.find((u) => u.id === targetId);
    if (!target) return null;
    const customers = customerIds().filter((c) => c !== targetId);
    const customerId = pick(customers);
    const order = `#${100000 + Math.floor(random() * 900000)}`;
    const roll = random();
    if (roll < 0.35) {
      const dm = sim.sendDm({
        senderId: customerId,
        recipientId: targetId,
        text: pick(OPENERS).replace('{order}', order),
      });
      return { kind: 'dm', targetId, id: dm.id };
    }
    if (roll < 0.55) {
      // Reply in a thread where the account answered this customer, if there is one.
      const answer = [...sim.state.tweets]
        .reverse()
        .find(
          (t) =>
            t.authorId === targetId &&
            t.inReplyToId &&
            sim.state.tweets.find((p) => p.id === t.inReplyToId)?.authorId === customerId,
        );
      if (answer) {
        const tweet = sim.createTweet({
          authorId: customerId,
          text: `@${target.username} ${pick(FOLLOW_UPS)}`,
          inReplyToId: answer.id,
        });
        return { kind: 'reply', targetId, id: tweet.id };
      }
    }
    const tweet = sim.createTweet({
      authorId: customerId,
      text: `@${target.username} ${pick(OPENERS).replace('{order}', order)}`,
    });
    return { kind: 'mention', targetId, id: tweet.id };
  };

  const intervalMs = Math.max(10, 60_000 / Math.max(options.ratePerMinute, 0.001));
  const timer = setInterval(() => step(), intervalMs);
  timer.unref();
  return { step, stop: () => clearInterval(timer) };
}
