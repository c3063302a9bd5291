// The chat platforms tierbot can talk to, in order of preference for people with accounts on several (cards
// to a person go to the first enabled platform they have an account on; the console is the fallback). A new
// platform is one folder under src/platforms/ whose index.ts exports a descriptor (src/ports/platform.ts),
// plus one entry here: its name, environment, org fields, identity and recipients all follow from it.
import type { AccountsOf, EnvOf } from '../ports/platform.ts';
import { dingtalk } from './dingtalk/index.ts';
import { feishu } from './feishu/index.ts';
import { wecom } from './wecom/index.ts';

export const platforms = [feishu, wecom, dingtalk] as const;

export type Platforms = typeof platforms;
export type PlatformName = Platforms[number]['name'];
/** the variables of every registered platform, as parsed */
export type PlatformsEnv = EnvOf<Platforms>;

// The port's Platform type and the org's account fields are derived from the list above.
declare module '../ports/messenger.ts' {
  interface PlatformNames extends Record<PlatformName, true> {}
}
declare module '../ports/store.ts' {
  interface UserAccounts extends AccountsOf<Platforms, 'user'> {}
  interface TeamAccounts extends AccountsOf<Platforms, 'team'> {}
}
