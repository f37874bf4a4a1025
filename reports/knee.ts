// Saturation point: the offered rate at which p99 turns up.
//
// Each second of the run is a point (offered rate, corrected p99). Points are grouped into rate
// bins (equal-count quantile bins over the sorted rates, so a step profile's plateaus become
// their own bins); each bin is summarized by its median rate and median p99. The baseline is the
// lowest bin median among the lower half of the rates. The knee is the lowest-rate bin whose p99
// is at least `factor` × baseline (and `minRiseMs` above it) while every higher-rate bin stays at
// least `persist` × baseline — a rise that does not go away as load increases, not a one-off blip.
// It needs enough spread in offered rate (a constant profile has no knee to find).

export interface KneeOptions {
  minCountPerSecond?: number;
  bins?: number;
  factor?: number;
  persist?: number;
  minRiseMs?: number;
  /** Minimum ratio between the highest and lowest bin rate for a search to make sense. */
  minRateSpread?: number;
}

export interface KneeBin {
  rateRps: number;
  p99Ms: number;
  seconds: number;
}

export interface Saturation {
  found: boolean;
  /** Why no knee (when found is false). */
  reason?: string;
  /** Offered rate where p99 turns up, and the highest rate below it that stayed near baseline. */
  kneeRps?: number;
  lastGoodRps?: number;
  baselineP99Ms?: number;
  kneeP99Ms?: number;
  bins: KneeBin[];
}

const DEFAULTS: Required<KneeOptions> = { minCountPerSecond: 20, bins: 12, factor: 2, persist: 1.5, minRiseMs: 1, minRateSpread: 1.3 };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function binByRate(points: readonly { rateRps: number; p99Ms: number }[], binCount: number): KneeBin[] {
  const sorted = [...points].sort((a, b) => a.rateRps - b.rateRps);
  const bins: KneeBin[] = [];
  let i = 0;
  while (i < sorted.length) {
    // Quantile bin, extended so equal rates never straddle two bins.
    let j = Math.min(sorted.length, i + Math.max(1, Math.ceil(sorted.length / binCount)));
    while (j < sorted.length && sorted[j]!.rateRps === sorted[j - 1]!.rateRps) j++;
    const chunk = sorted.slice(i, j);
    bins.push({ rateRps: median(chunk.map((p) => p.rateRps)), p99Ms: median(chunk.map((p) => p.p99Ms)), seconds: chunk.length });
    i = j;
  }
  return bins;
}

export function findKnee(
  offeredRps: readonly number[],
  p99Ms: readonly (number | null)[],
  counts: readonly number[],
  options: KneeOptions = {},
): Saturation {
  const o = { ...DEFAULTS, ...options };
  const points: { rateRps: number; p99Ms: number }[] = [];
  for (let i = 0; i < offeredRps.length; i++) {
    const p = p99Ms[i];
    if (p !== null && p !== undefined && Number.isFinite(p) && (counts[i] ?? 0) >= o.minCountPerSecond && offeredRps[i]! > 0) {
      points.push({ rateRps: offeredRps[i]!, p99Ms: p });
    }
  }
  if (points.length < 4) return { found: false, reason: 'too few seconds with enough requests', bins: [] };
  const bins = binByRate(points, o.bins);
  const lo = bins[0]!.rateRps;
  const hi = bins[bins.length - 1]!.rateRps;
  if (bins.length < 3 || hi < lo * o.minRateSpread) {
    return { found: false, reason: 'the offered rate hardly varied (use a ramp, step or spike profile to find the knee)', bins };
  }
  const lowerHalf = bins.filter((b) => b.rateRps <= (lo + hi) / 2);
  const baseline = Math.min(...(lowerHalf.length > 0 ? lowerHalf : bins).map((b) => b.p99Ms));
  for (let k = 1; k < bins.length; k++) {
    const b = bins[k]!;
    if (b.p99Ms < baseline * o.factor || b.p99Ms - baseline < o.minRiseMs) continue;
    const persists = bins.slice(k).every((x) => x.p99Ms >= baseline * o.persist);
    if (!persists) continue;
    return { found: true, kneeRps: b.rateRps, lastGoodRps: bins[k - 1]!.rateRps, baselineP99Ms: baseline, kneeP99Ms: b.p99Ms, bins };
  }
  return { found: false, reason: `p99 stayed within ${o.factor}× its baseline up to ${Math.round(hi)} req/s`, baselineP99Ms: baseline, bins };
}
