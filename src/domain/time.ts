// Calendar arithmetic in an IANA time zone without Intl calls in the hot path.
//
// A Zone learns the zone's UTC-offset transitions lazily (daily samples through Intl, bisected to the second
// where the offset changes) over a contiguous covered range, then answers offsetAt(ms) from the cached
// segment [lo, hi) in which the last answer fell: for a zone without DST that is one segment for decades.

export const DAY_MS = 86_400_000;
const SAMPLE_MS = DAY_MS;
const CHUNK_MS = 366 * DAY_MS;
// Outside this range offsets are computed on every call (correct, just slow); nothing real lives there.
const COVER_MIN = Date.UTC(1900, 0, 1);
const COVER_MAX = Date.UTC(2200, 0, 1);

export function isValidTimeZone(tz: string): boolean {
  if (typeof tz !== 'string' || tz.length === 0 || /^[+-]/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export class Zone {
  readonly name: string;
  private readonly fmt: Intl.DateTimeFormat;
  // cached segment of constant offset
  private lo = 0;
  private hi = -1;
  private off = 0;
  // covered range [coverLo, coverHi): offs[0] applies from coverLo, offs[i + 1] from at[i]
  private coverLo = 0;
  private coverHi = 0;
  private at: number[] = [];
  private offs: number[] = [];

  constructor(name: string) {
    this.name = name;
    this.fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** UTC offset in ms (local = utc + offset) at instant `ms`. */
  offsetAt(ms: number): number {
    if (ms >= this.lo && ms < this.hi) return this.off;
    return this.lookup(ms);
  }

  /** Days since 1970-01-01 of the local calendar date at instant `ms`. */
  dayOf(ms: number): number {
    return Math.floor((ms + this.offsetAt(ms)) / DAY_MS);
  }

  /** The first instant of local calendar day `day` (also right when a DST change swallows midnight). */
  startOfDay(day: number): number {
    // offsets lie within ±14h, so the answer is inside (wall − 26h, wall + 26h]
    let lo = day * DAY_MS - 26 * 3_600_000;
    let hi = day * DAY_MS + 26 * 3_600_000;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.dayOf(mid) >= day) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  private lookup(ms: number): number {
    if (!(ms >= COVER_MIN && ms < COVER_MAX)) return this.rawOffset(ms);
    this.cover(ms);
    const at = this.at;
    // i = number of transitions at or before ms
    let a = 0;
    let b = at.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (at[mid] <= ms) a = mid + 1;
      else b = mid;
    }
    this.lo = a > 0 ? at[a - 1] : this.coverLo;
    this.hi = a < at.length ? at[a] : this.coverHi;
    this.off = this.offs[a];
    return this.off;
  }

  private cover(ms: number): void {
    if (this.coverHi === 0) {
      const lo = Math.max(COVER_MIN, ms - (((ms % CHUNK_MS) + CHUNK_MS) % CHUNK_MS));
      const s = this.scan(lo, Math.min(COVER_MAX, lo + CHUNK_MS));
      this.coverLo = lo;
      this.coverHi = Math.min(COVER_MAX, lo + CHUNK_MS);
      this.at = s.at;
      this.offs = s.offs;
    }
    while (ms < this.coverLo) {
      const lo = Math.max(COVER_MIN, this.coverLo - CHUNK_MS);
      const s = this.scan(lo, this.coverLo);
      // s ends with the offset at the old coverLo, which is offs[0]
      this.at = s.at.concat(this.at);
      this.offs = s.offs.concat(this.offs.slice(1));
      this.coverLo = lo;
    }
    while (ms >= this.coverHi) {
      const hi = Math.min(COVER_MAX, this.coverHi + CHUNK_MS);
      const s = this.scan(this.coverHi, hi);
      // s starts with the offset at the old coverHi, which continues the last segment
      if (s.offs[0] !== this.offs[this.offs.length - 1]) {
        this.at.push(this.coverHi);
        this.offs.push(s.offs[0]);
      }
      for (let i = 0; i < s.at.length; i++) {
        this.at.push(s.at[i]);
        this.offs.push(s.offs[i + 1]);
      }
      this.coverHi = hi;
    }
  }

  /** Transitions in (from, to]; offs[0] is the offset at `from`, offs[i + 1] the offset from at[i] on. */
  private scan(from: number, to: number): { at: number[]; offs: number[] } {
    const at: number[] = [];
    let prevT = from;
    let prevOff = this.rawOffset(from);
    const offs = [prevOff];
    for (let t = from + SAMPLE_MS; ; t += SAMPLE_MS) {
      if (t > to) t = to;
      const o = this.rawOffset(t);
      if (o !== prevOff) {
        // bisect to the second at which the offset changes (assumes one change per sample interval)
        let lo = prevT;
        let hi = t;
        while (hi - lo > 1000) {
          const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
          if (this.rawOffset(mid) === prevOff) lo = mid;
          else hi = mid;
        }
        at.push(hi);
        offs.push(o);
        prevOff = o;
      }
      prevT = t;
      if (t === to) break;
    }
    return { at, offs };
  }

  private rawOffset(ms: number): number {
    const sec = ms - (((ms % 1000) + 1000) % 1000);
    let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    for (const p of this.fmt.formatToParts(sec)) {
      switch (p.type) {
        case 'year': y = Number(p.value); break;
        case 'month': mo = Number(p.value); break;
        case 'day': d = Number(p.value); break;
        case 'hour': h = Number(p.value); break;
        case 'minute': mi = Number(p.value); break;
        case 'second': s = Number(p.value); break;
      }
    }
    const local = (daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000;
    return local - sec;
  }
}

const zones = new Map<string, Zone>();

/** The shared Zone for `tz` (throws RangeError on an unknown zone). */
export function zone(tz: string): Zone {
  let z = zones.get(tz);
  if (!z) {
    z = new Zone(tz);
    zones.set(tz, z);
  }
  return z;
}

/** Days since 1970-01-01 of the local calendar date of instant `ms` in `tz`. */
export function localDayNumber(ms: number, tz: string): number {
  return zone(tz).dayOf(ms);
}

// Howard Hinnant's civil-date algorithms (proleptic Gregorian).
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** Month index (year·12 + month − 1) of a local day number. */
export function monthOfDay(day: number): number {
  const c = civilFromDays(day);
  return c.y * 12 + c.m - 1;
}

/** Local day number of the first day of a month index. */
export function monthStartDay(month: number): number {
  const y = Math.floor(month / 12);
  return daysFromCivil(y, month - y * 12 + 1, 1);
}

/** 'YYYY-MM' of a month index. */
export function monthLabel(month: number): string {
  const y = Math.floor(month / 12);
  return `${pad(y, 4)}-${pad(month - y * 12 + 1, 2)}`;
}

/** 'YYYY-MM-DD' of a local day number. */
export function dayLabel(day: number): string {
  const c = civilFromDays(day);
  return `${pad(c.y, 4)}-${pad(c.m, 2)}-${pad(c.d, 2)}`;
}

/** ISO-8601 with the zone's offset, e.g. 2026-06-30T02:00:00+08:00 (milliseconds only when non-zero). */
export function formatInstant(ms: number, tz: string): string {
  const off = zone(tz).offsetAt(ms);
  const local = ms + off;
  const day = Math.floor(local / DAY_MS);
  let rest = local - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const mi = Math.floor(rest / 60_000);
  rest -= mi * 60_000;
  const s = Math.floor(rest / 1000);
  const frac = rest - s * 1000;
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off) / 1000;
  const oh = Math.floor(abs / 3600);
  const om = Math.floor((abs % 3600) / 60);
  const os = abs % 60;
  return (
    `${dayLabel(day)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}` +
    (frac ? `.${pad(frac, 3)}` : '') +
    `${sign}${pad(oh, 2)}:${pad(om, 2)}` +
    (os ? `:${pad(os, 2)}` : '')
  );
}

function pad(n: number, w: number): string {
  const s = String(Math.abs(n)).padStart(w, '0');
  return n < 0 ? `-${s}` : s;
}
