// Deterministic demo data for the embedded default: ~500 customers with two years of orders.
// Same seed and same day → same data, so screenshots and walkthroughs are repeatable.
import type { ApprovedScore } from '../domain/types.ts';
import type { CustomerInput, Org, Store } from '../ports/store.ts';
import { orderSchema, toOrderInput } from './inputs.ts';

const DAY = 86_400_000;

/** mulberry32: a small, well-distributed PRNG */
export function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SURNAMES = ['华', '盛', '东', '鼎', '远', '嘉', '恒', '瑞', '博', '新', '联', '中', '宏', '金', '天', '安', '泰', '明', '永', '信'];
const WORDS = ['科技', '贸易', '制造', '医疗', '物流', '电子', '食品', '建材', '能源', '零售', '化工', '软件', '纺织', '汽配', '家居'];
const SUFFIX = ['有限公司', '股份有限公司', '集团', '实业有限公司'];
const CITIES = ['上海', '杭州', '苏州', '南京', '广州', '深圳', '厦门', '东莞'];
const INDUSTRIES = ['manufacturing', 'retail', 'healthcare', 'logistics', 'software', 'energy'];
const SIZES = ['small', 'medium', 'large'];
const CHANNELS = ['direct', 'partner', 'online'];

/** Customer archetypes, so the demo shows every tier, lifecycle stage and risk. */
type Archetype = 'vip' | 'potential' | 'lapsedBig' | 'declining' | 'steady' | 'occasional' | 'newcomer' | 'prospect' | 'churned';
const MIX: [Archetype, number][] = [
  ['vip', 0.1], ['potential', 0.16], ['lapsedBig', 0.08], ['declining', 0.07], ['steady', 0.2],
  ['occasional', 0.2], ['newcomer', 0.07], ['prospect', 0.04], ['churned', 0.08],
];

export interface DemoData {
  customers: CustomerInput[];
  orders: unknown[];
  scores: { customerId: string; score: ApprovedScore }[];
}

export function demoData(org: Org, now: number, count = 500, seed = 20260630): DemoData {
  const rand = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const reps = org.users.filter((u) => u.role === 'rep');
  const managers = org.users.filter((u) => u.role === 'manager');
  const today = Math.floor(now / DAY) * DAY;
  const customers: CustomerInput[] = [];
  const orders: unknown[] = [];
  const scores: DemoData['scores'] = [];

  for (let i = 1; i <= count; i++) {
    const id = `c-${String(i).padStart(4, '0')}`;
    const owner = reps[i % reps.length];
    const city = pick(CITIES);
    customers.push({
      id,
      name: `${city}${pick(SURNAMES)}${pick(SURNAMES)}${pick(WORDS)}${pick(SUFFIX)}`,
      ownerId: owner.id,
      teamId: owner.teamId ?? null,
      attributes: { industry: pick(INDUSTRIES), region: city, size: pick(SIZES), channel: pick(CHANNELS) },
      tags: rand() < 0.2 ? ['重点'] : [],
    });

    let roll = rand();
    let archetype: Archetype = 'steady';
    for (const [a, share] of MIX) {
      if ((roll -= share) < 0) {
        archetype = a;
        break;
      }
    }
    let n = 0;
    const order = (daysAgo: number, amount: number, status?: string) => {
      const at = today - daysAgo * DAY + Math.floor(rand() * 10 * 3600_000) + 1 * 3600_000;
      orders.push({
        orderId: `${id}-o${++n}`,
        customerId: id,
        amount: Math.round(amount * 100) / 100,
        margin: rand() < 0.7 ? Math.round(amount * (0.15 + rand() * 0.2) * 100) / 100 : null,
        occurredAt: new Date(at).toISOString().replace('Z', '+00:00'),
        ...(status ? { status } : {}),
      });
    };
    const series = (every: number, from: number, to: number, base: number, spread = 0.5) => {
      for (let d = from; d >= to; d -= Math.max(1, Math.round(every * (0.6 + rand() * 0.8)))) order(d, base * (1 - spread / 2 + rand() * spread));
    };

    switch (archetype) {
      case 'vip':
        series(18, 720, 3 + Math.floor(rand() * 20), 1500 + rand() * 4000);
        break;
      case 'potential':
        series(110, 300, 35 + Math.floor(rand() * 50), 900 + rand() * 1500);
        break;
      case 'lapsedBig':
        series(25, 700, 100 + Math.floor(rand() * 60), 2000 + rand() * 3000);
        break;
      case 'declining': {
        series(20, 700, 140, 3000);
        // spend falling by a third or more in each of the last four complete months
        const d = new Date(now);
        [20000, 13000, 8000, 5000].forEach((amount, k) => {
          const at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 4 + k, 10, 4);
          order(Math.round((today - at) / DAY), amount);
        });
        break;
      }
      case 'steady':
        series(45, 700, 5 + Math.floor(rand() * 40), 600 + rand() * 1200);
        break;
      case 'occasional':
        series(150, 600, 20 + Math.floor(rand() * 200), 300 + rand() * 900, 0.8);
        break;
      case 'newcomer':
        order(5 + Math.floor(rand() * 60), 800 + rand() * 4000);
        break;
      case 'prospect':
        break;
      case 'churned':
        series(60, 730, 380 + Math.floor(rand() * 200), 500 + rand() * 1500);
        break;
    }
    if (n > 3 && rand() < 0.15) order(Math.floor(rand() * 300) + 1, -(100 + rand() * 500));
    if (n > 3 && rand() < 0.1) order(Math.floor(rand() * 300) + 1, 5000, 'cancelled');

    if (archetype !== 'prospect' && rand() < 0.45) {
      const manager = managers.find((m) => m.teamId === owner.teamId) ?? managers[0];
      scores.push({
        customerId: id,
        score: {
          points: { profitability: 10 * Math.round(3 + rand() * 7), strength: 10 * Math.round(3 + rand() * 7) },
          approvedBy: manager?.id ?? 'u-admin',
          approvedAt: new Date(today - Math.floor(rand() * 90) * DAY).toISOString(),
          submittedBy: owner.id,
        },
      });
    }
  }
  return { customers, orders, scores };
}

/** Seeds org, customers, orders and approved scores into an empty store. Returns false when it was not empty. */
export async function seedDemo(store: Store, org: Org, now: number): Promise<boolean> {
  if ((await store.countCustomers()) > 0) return false;
  if (!(await store.getOrg())) await store.putOrg(org);
  const data = demoData(org, now);
  await store.upsertCustomers(data.customers);
  await store.ingestOrders(data.orders.map((o) => toOrderInput(orderSchema.parse(o))));
  for (const s of data.scores) await store.setScore(s.customerId, s.score);
  return true;
}
