// zod fields the platforms' environment schemas share (see each platform's config.ts).
import { z } from 'zod';

/** an optional variable: set and not blank, trimmed */
export const envText = z.string().trim().min(1).optional();
export const envUrl = z.string().trim().url();
