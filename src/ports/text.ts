// Strings as the store can keep them. MongoDB stores strings as UTF-8, where an unpaired UTF-16 surrogate has
// no encoding: it would be stored as U+FFFD, silently changing the value (and making distinct ids collide).
// Every stored string is checked with storableText (org fields of every platform included).
import { z } from 'zod';

export const LONE_SURROGATE = /\p{Surrogate}/u;
export const UNPAIRED_SURROGATE = 'contains an unpaired UTF-16 surrogate (e.g. a lone \\uD800), which cannot be stored';
export const storableText = () => z.string().refine((s) => !LONE_SURROGATE.test(s), UNPAIRED_SURROGATE);
