import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  civilFromDays,
  dayLabel,
  daysFromCivil,
  formatInstant,
  isValidTimeZone,
  localDayNumber,
  monthLabel,
  monthOfDay,
  monthStartDay,
  zone,
} from '../../src/domain/time.ts';
import { ms } from './helpers.ts';

/** What Intl says the local wall clock is, as 'YYYY-MM-DDTHH:MM:SS'. */
function intlWall(t: number, tz: string): string {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

describe('local calendar days', () => {
  it('23:59 and 00:01 Asia/Shanghai fall on adjacent local days although both are the same UTC day', () => {
    const late = ms('2026-03-01T23:59:00+08:00');
    const early = ms('2026-03-02T00:01:00+08:00');
    expect(new Date(late).getUTCDate()).toBe(new Date(early).getUTCDate());
    expect(localDayNumber(early, 'Asia/Shanghai') - localDayNumber(late, 'Asia/Shanghai')).toBe(1);
    expect(localDayNumber(late, 'Asia/Shanghai')).toBe(daysFromCivil(2026, 3, 1));
  });

  it('counts days in New York across the spring-forward and fall-back changes', () => {
    const tz = 'America/New_York';
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 2026-11-01: 02:00 EDT falls back to 01:00 EST
    expect(localDayNumber(ms('2026-03-08T04:59:59Z'), tz)).toBe(daysFromCivil(2026, 3, 7)); // 23:59:59 EST
    expect(localDayNumber(ms('2026-03-08T05:00:00Z'), tz)).toBe(daysFromCivil(2026, 3, 8));
    expect(localDayNumber(ms('2026-03-09T03:59:59Z'), tz)).toBe(daysFromCivil(2026, 3, 8)); // 23:59:59 EDT
    expect(localDayNumber(ms('2026-03-09T04:00:00Z'), tz)).toBe(daysFromCivil(2026, 3, 9));
    expect(localDayNumber(ms('2026-11-02T04:59:59Z'), tz)).toBe(daysFromCivil(2026, 11, 1)); // 23:59:59 EST
    expect(localDayNumber(ms('2026-11-02T05:00:00Z'), tz)).toBe(daysFromCivil(2026, 11, 2));
  });

  it('agrees with Intl for arbitrary instants in several zones', () => {
    const zones = ['Asia/Shanghai', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC', 'America/Sao_Paulo'];
    fc.assert(
      fc.property(fc.integer({ min: ms('1970-01-01T00:00:00Z'), max: ms('2060-01-01T00:00:00Z') }), fc.constantFrom(...zones), (t, tz) => {
        const wall = intlWall(t, tz);
        expect(dayLabel(localDayNumber(t, tz))).toBe(wall.slice(0, 10));
        expect(formatInstant(t - (t % 1000), tz).slice(0, 19)).toBe(wall);
      }),
      { numRuns: 3000 },
    );
  });

  it('handles instants before the cached range (the 19th century)', () => {
    const t = ms('1850-06-01T12:00:00Z');
    expect(dayLabel(localDayNumber(t, 'Asia/Shanghai'))).toBe(intlWall(t, 'Asia/Shanghai').slice(0, 10));
  });

  it('finds the first instant of a local day, also when midnight does not exist', () => {
    expect(zone('Asia/Shanghai').startOfDay(daysFromCivil(2026, 6, 30))).toBe(ms('2026-06-30T00:00:00+08:00'));
    expect(zone('America/New_York').startOfDay(daysFromCivil(2026, 11, 1))).toBe(ms('2026-11-01T00:00:00-04:00'));
    // Sao Paulo skipped 00:00–01:00 on 2018-11-04
    expect(zone('America/Sao_Paulo').startOfDay(daysFromCivil(2018, 11, 4))).toBe(ms('2018-11-04T01:00:00-02:00'));
  });
});

describe('formatInstant', () => {
  it('writes the zone offset', () => {
    expect(formatInstant(ms('2026-06-29T18:00:00Z'), 'Asia/Shanghai')).toBe('2026-06-30T02:00:00+08:00');
    expect(formatInstant(ms('2026-06-29T18:00:00.250Z'), 'Asia/Shanghai')).toBe('2026-06-30T02:00:00.250+08:00');
    expect(formatInstant(ms('2026-01-15T12:00:00Z'), 'UTC')).toBe('2026-01-15T12:00:00+00:00');
    expect(formatInstant(ms('2026-01-15T12:00:00Z'), 'Asia/Kolkata')).toBe('2026-01-15T17:30:00+05:30');
  });

  it('switches offset exactly at the DST change in New York', () => {
    const tz = 'America/New_York';
    expect(formatInstant(ms('2026-03-08T06:59:59Z'), tz)).toBe('2026-03-08T01:59:59-05:00');
    expect(formatInstant(ms('2026-03-08T07:00:00Z'), tz)).toBe('2026-03-08T03:00:00-04:00');
    expect(formatInstant(ms('2026-11-01T05:59:59Z'), tz)).toBe('2026-11-01T01:59:59-04:00');
    expect(formatInstant(ms('2026-11-01T06:00:00Z'), tz)).toBe('2026-11-01T01:00:00-05:00');
  });

  it('round-trips through Date.parse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ms('2100-01-01T00:00:00Z') }), fc.constantFrom('Asia/Shanghai', 'America/New_York', 'Pacific/Chatham'), (t, tz) => {
        expect(Date.parse(formatInstant(t, tz))).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('calendar helpers', () => {
  it('converts civil dates both ways', () => {
    fc.assert(
      fc.property(fc.integer({ min: daysFromCivil(1, 1, 1), max: daysFromCivil(9999, 12, 31) }), (d) => {
        const c = civilFromDays(d);
        expect(daysFromCivil(c.y, c.m, c.d)).toBe(d);
        expect(dayLabel(d)).toBe(new Date(d * 86_400_000).toISOString().slice(0, 10));
      }),
      { numRuns: 500 },
    );
  });

  it('months: index, first day and label', () => {
    const d = daysFromCivil(2024, 2, 29);
    expect(monthLabel(monthOfDay(d))).toBe('2024-02');
    expect(monthStartDay(monthOfDay(d))).toBe(daysFromCivil(2024, 2, 1));
    expect(monthLabel(monthOfDay(d) + 11)).toBe('2025-01');
    expect(monthLabel(monthOfDay(d) - 2)).toBe('2023-12');
  });

  it('accepts real IANA zones only', () => {
    expect(isValidTimeZone('Asia/Shanghai')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('+08:00')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
