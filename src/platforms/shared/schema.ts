import type { z } from 'zod';
import { VerificationError, type VerificationReason } from './errors.ts';

/** zod parse whose failure is a VerificationError naming the paths at fault (never the values). */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  reason: VerificationReason = 'malformed_body',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const paths = result.error.issues.map((i) => i.path.join('.') || '(root)');
  throw new VerificationError(reason, `${what}: invalid ${[...new Set(paths)].join(', ')}`);
}
