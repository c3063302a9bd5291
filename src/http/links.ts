// Signed console links and console sessions (JWTs, HS256, via jose).
//
// - A link token names the org user and the page (`sub`, `pg`) and expires (7 days by default). Opening it at
//   /console/open starts a session and redirects to the page; nothing else is shown for a bad link.
// - A session is a cookie holding a second token (`sub`, a CSRF value, 12 hours), httpOnly and SameSite=Lax
//   (Lax: a link opened from a chat app is a cross-site navigation, and the page it lands on must get the
//   cookie). State-changing requests carry the CSRF value in a header (double submit, see session.ts).
// - Signing out records the instant: every link and session of that user issued before it is refused.
// The key is CONSOLE_SECRET, or else derived from ADMIN_TOKEN: rotating either signs everyone out.
import { createHmac, randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../ports/clock.ts';
import type { DocStore } from '../ports/doc-store.ts';
import { consolePath, type ConsoleLinks, type ConsolePage } from '../ports/links.ts';

const LINK_AUDIENCE = 'tierbot:console-link';
const SESSION_AUDIENCE = 'tierbot:console-session';
const LOGOUTS = 'consoleLogouts';
export const SESSION_HOURS = 12;

export type LinkRefusal = 'expired' | 'invalid' | 'signed_out';

export class TokenRefused extends Error {
  constructor(readonly reason: LinkRefusal) {
    super(reason === 'expired' ? 'this link has expired' : reason === 'signed_out' ? 'this link was issued before you signed out' : 'this link is not valid');
  }
}

export interface Session {
  userId: string;
  csrf: string;
}

export interface LinkOptions {
  /** see consoleKey */
  key: Uint8Array;
  publicBaseUrl: string;
  clock: Clock;
  docs: DocStore;
  /** how long a link works; default 7 days */
  linkDays?: number;
}

/** The signing key: CONSOLE_SECRET as given, or one derived from the admin token (never the token itself). */
export function consoleKey(consoleSecret: string | undefined, adminToken: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', consoleSecret ?? adminToken).update('tierbot console links v1').digest());
}

export class SignedLinks implements ConsoleLinks {
  private readonly key: Uint8Array;
  private readonly linkSeconds: number;

  constructor(private readonly o: LinkOptions) {
    this.key = o.key;
    this.linkSeconds = Math.round((o.linkDays ?? 7) * 86_400);
  }

  async url(recipient: string | null, page: ConsolePage = {}): Promise<string> {
    const path = consolePath(page);
    if (recipient === null) return `${this.o.publicBaseUrl}${path}`;
    const token = await this.sign({ pg: path }, recipient, LINK_AUDIENCE, this.linkSeconds);
    return `${this.o.publicBaseUrl}/console/open?t=${token}`;
  }

  /** The user and page of a link token, or TokenRefused. */
  async openLink(token: string): Promise<{ userId: string; page: string }> {
    const { sub, claims } = await this.verify(token, LINK_AUDIENCE);
    const page = typeof claims.pg === 'string' && claims.pg.startsWith('/console') ? claims.pg : '/console';
    return { userId: sub, page };
  }

  async startSession(userId: string): Promise<{ token: string; session: Session }> {
    const csrf = randomBytes(18).toString('base64url');
    return { token: await this.sign({ csrf }, userId, SESSION_AUDIENCE, SESSION_HOURS * 3600), session: { userId, csrf } };
  }

  async session(token: string): Promise<Session> {
    const { sub, claims } = await this.verify(token, SESSION_AUDIENCE);
    if (typeof claims.csrf !== 'string') throw new TokenRefused('invalid');
    return { userId: sub, csrf: claims.csrf };
  }

  /** Everything issued to the user until now stops working. */
  async signOut(userId: string): Promise<void> {
    await this.o.docs.put(LOGOUTS, { _id: userId, atMs: this.o.clock.now() });
  }

  private sign(claims: Record<string, string>, sub: string, audience: string, seconds: number): Promise<string> {
    const now = Math.floor(this.o.clock.now() / 1000);
    return new SignJWT({ ...claims, jti: randomBytes(9).toString('base64url') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(sub)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + seconds)
      .sign(this.key);
  }

  private async verify(token: string, audience: string): Promise<{ sub: string; claims: Record<string, unknown> }> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.key, { audience, algorithms: ['HS256'], currentDate: new Date(this.o.clock.now()), requiredClaims: ['sub', 'iat', 'exp'] }));
    } catch (err) {
      throw new TokenRefused(err instanceof errors.JWTExpired ? 'expired' : 'invalid');
    }
    const sub = payload.sub as string;
    const out = await this.o.docs.get<{ _id: string; atMs: number }>(LOGOUTS, sub);
    // iat has second precision: a token of the second of signing out counts as before it
    if (out && (payload.iat as number) * 1000 <= out.atMs) throw new TokenRefused('signed_out');
    return { sub, claims: payload };
  }
}
