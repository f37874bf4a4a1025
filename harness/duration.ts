// Durations in scenarios: a number of seconds, or a string like "500ms", "30s", "2m", "1h",
// "1m30s". Parsed once when a scenario is normalized; everything after works in seconds.

const UNIT_SECONDS: Record<string, number> = { us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/gy;

export type Duration = number | string;

/** Seconds in a duration; throws a one-line Error on bad input. */
export function parseDurationS(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${what}: duration must be a finite number of seconds >= 0, got ${value}`);
    return value;
  }
  if (typeof value !== 'string') throw new Error(`${what}: duration must be a number (seconds) or a string like "30s"`);
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let totalS = 0;
  let consumed = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    totalS += Number(m[1]) * (UNIT_SECONDS[m[2]!] ?? NaN);
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length || text.length === 0 || !Number.isFinite(totalS)) {
    throw new Error(`${what}: bad duration "${value}" (use e.g. 500ms, 30s, 2m, 1m30s)`);
  }
  return totalS;
}

/** A k6/Go duration string for seconds (whole milliseconds). */
export function formatK6Duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
