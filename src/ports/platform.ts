// The platform port: everything tierbot needs to know about a chat platform, in one descriptor that the
// platform's folder exports (src/platforms/<name>/index.ts) and one registry lists (src/platforms/registry.ts).
// The core reads platforms only through descriptors: the environment is composed from their schemas, the org
// schema from their account fields, identity and recipients from their functions. Each descriptor is declared
// with its type (`export const x: PlatformDescriptor<'x', typeof xEnv, typeof xUser, typeof xTeam> = {…}`), so one
// that lacks a piece does not compile, and the registry can derive names and account types from it.
import type Router from '@koa/router';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Timer } from './delivery.ts';
import type { Clock } from './clock.ts';
import type { DocStore } from './doc-store.ts';
import type { InboundSink, Messenger, Platform, Recipient } from './messenger.ts';
import type { Org, OrgTeam, OrgUser } from './store.ts';

/** What the composition hands every platform it creates. */
export interface PlatformDeps {
  sink: InboundSink;
  clock: Clock;
  log: Logger;
  /** the shared documents, for claims that must hold across instances (DingTalk webhook mode needs it) */
  docs?: DocStore;
  /** rate-limit waits; tests may pass a fast timer */
  timer?: Timer;
}

/** A created platform: a messenger for outgoing cards, and receivers (webhook routes and/or a long connection). */
export interface PlatformModule {
  platform: Platform;
  messenger: Messenger;
  /** webhook routes, mounted at the app root (e.g. POST /webhooks/feishu) */
  routes?: Router;
  /** opens long connections (Feishu ws, DingTalk Stream); resolves once connected or failed loudly */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** the platform's web sign-in for the console (its own OAuth), when it offers one */
  oauth?: PlatformOAuth;
}

/**
 * A platform's web OAuth as the console's sign-in drives it (src/http/oauth.ts): the authorize page to send the
 * browser to, and the callback's code exchanged for the platform user id that `identify` maps to the org user.
 */
export interface PlatformOAuth {
  /** the platform's authorize page; it sends the browser back to `redirectUri` with the code and `state` */
  authorizeUrl(redirectUri: string, state: string): string;
  /** the callback's query parameter that carries the code (`code`, DingTalk's `authCode`) */
  codeParam: string;
  /**
   * The platform user id for a callback's code (the id `identify` takes); null when the platform knows the person
   * but not as a member of this org (e.g. WeCom's non-members). Throws OAuthRefused when the platform refuses.
   */
  userId(code: string, redirectUri: string): Promise<string | null>;
}

/** The platform refused a sign-in step (a wrong or used code, a wrong secret); `detail` is for the log. */
export class OAuthRefused extends Error {
  constructor(readonly platform: string, readonly detail: string) {
    super(`${platform}: sign-in refused: ${detail}`);
  }
}

/** The variables every platform may read besides its own (validated by config/env.ts). */
export interface SharedPlatformEnv {
  PUBLIC_BASE_URL: string;
  PLATFORM_TIMEOUT_MS: number;
}

/** A platform's validated slice of the environment: its own variables and the shared ones, nothing else. */
export type PlatformConfig<S extends z.ZodRawShape> = z.infer<z.ZodObject<S>> & SharedPlatformEnv;

export interface PlatformDescriptor<N extends string = string, S extends z.ZodRawShape = z.ZodRawShape, U extends z.ZodType = z.ZodType, T extends z.ZodType = z.ZodType> {
  name: N;
  env: {
    /** the zod fields of the platform's variables, merged into the environment schema */
    shape: S;
    /** set together or not at all; the platform is on when the first one is set */
    required: readonly [keyof S & string, ...(keyof S & string)[]];
    /** variables that also count as "partly configured" when set */
    optional?: readonly (keyof S & string)[];
    /** checks across the raw variables (after the "partly configured" checks); error texts as shown at start */
    problems?(raw: Readonly<Record<string, string | undefined>>): string[];
  };
  /** the fields it adds to the org: `users[].<name>` and `teams[].<name>` (strict zod objects) */
  org: {
    user: U;
    team: T;
    /**
     * The account's identity, normalised, for the "same account as user X" check of an org. It runs on the raw
     * input (before validation, so one answer lists every problem): only a string result counts.
     */
    accountKey?(account: Readonly<Record<string, unknown>>): unknown;
  };
  /** the org user behind a platform user id, if any */
  identify(org: Org, platformUserId: string): OrgUser | undefined;
  /** where a card to this person goes on this platform; undefined when they have no account here */
  userRecipient(user: OrgUser): Recipient | undefined;
  /** the team's chats on this platform (possibly none) */
  teamRecipients(team: OrgTeam): Recipient[];
  create(deps: PlatformDeps, config: PlatformConfig<S>): PlatformModule;
}

/** Any descriptor (a list of them: the registry, or a test's own). */
export type AnyPlatformDescriptor = PlatformDescriptor<string, any, z.ZodType, z.ZodType>;

/** The org account types a list of descriptors adds, per user or per team: `{ feishu: …; wecom: … }` (optional in OrgUser/OrgTeam). */
export type AccountsOf<Ds extends readonly AnyPlatformDescriptor[], Side extends 'user' | 'team'> = {
  [D in Ds[number] as D['name']]: z.infer<D['org'][Side]>;
};

/** The merged environment of a list of descriptors (their parsed variables). */
export type EnvOf<Ds extends readonly AnyPlatformDescriptor[]> = UnionToIntersection<{ [I in keyof Ds]: z.infer<z.ZodObject<Ds[I]['env']['shape']>> }[number]>;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
