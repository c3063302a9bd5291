// How a chat platform plugs in: the types live in the platform port (src/ports/platform.ts).
export type { PlatformDeps, PlatformModule } from '../ports/platform.ts';
