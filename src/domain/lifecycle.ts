// Lifecycle stage (docs/policy.md, "Lifecycle"): the first that holds, in this order.
import type { CompiledPolicy } from './compile.ts';
import type { Attributes, Values } from './conditions.ts';
import type { Lifecycle, Metrics } from './types.ts';

export function lifecycleOf(cp: CompiledPolicy, m: Metrics, values: Values, attributes: Attributes): Lifecycle {
  const lc = cp.lifecycle;
  if (m.orderCount === 0 || m.recencyDays === null) return 'prospect';
  if (m.recencyDays > lc.churnedDays) return 'churned';
  if (m.recencyDays > lc.dormantDays) return 'dormant';
  if (m.orderCount === 1 && m.tenureDays !== null && m.tenureDays <= lc.newDays) return 'new';
  if (lc.mature.test(values, attributes)) return 'mature';
  return 'growing';
}
