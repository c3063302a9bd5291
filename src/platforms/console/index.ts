// The console (the web console's embedded messenger) as a platform: built in, always on, no variables and no
// org fields (its user ids are org user ids). Like the registered platforms it has an identity, a messenger
// and a receiver; its receiver is the act-as API (routes.ts), mounted on the admin router by the composition.
import type { Clock } from '../../ports/clock.ts';
import type { DocStore } from '../../ports/doc-store.ts';
import type { InboundSink } from '../../ports/messenger.ts';
import type { PlatformDescriptor, PlatformModule } from '../../ports/platform.ts';
import { ConsoleMessenger } from './messenger.ts';
import { registerConsoleRoutes, type ConsoleHttp, type ConsoleRouter } from './routes.ts';

export type { ConsoleHttp, ConsoleRouter } from './routes.ts';
export { ConsoleMessenger } from './messenger.ts';

export interface ConsoleDeps {
  sink: InboundSink;
  docs: DocStore;
  clock: Clock;
  /** waits for the handlers' background work and delivers what it queued (the console answers after it) */
  settle(): Promise<void>;
}

export interface ConsolePlatformModule extends PlatformModule {
  platform: 'console';
  messenger: ConsoleMessenger;
  /** registers GET /console/inbox, POST /console/action and POST /console/command on the admin router */
  mount(router: ConsoleRouter, http: ConsoleHttp): void;
}

export const consolePlatform = {
  name: 'console',
  identify: (org, platformUserId) => org.users.find((u) => u.id === platformUserId),
  create(deps: ConsoleDeps): ConsolePlatformModule {
    const messenger = new ConsoleMessenger(deps.docs, deps.clock);
    return {
      platform: 'console',
      messenger,
      mount: (router, http) => registerConsoleRoutes(router, http, { sink: deps.sink, messenger, settle: deps.settle }),
    };
  },
} satisfies Pick<PlatformDescriptor<'console'>, 'name' | 'identify'> & { create(deps: ConsoleDeps): ConsolePlatformModule };
