// The calibration target's model, shared by the target thread and the calibrator: the stall
// rule, the record layout and the designed latency distribution's exact quantiles.

export interface TargetConfig {
  fixedMs: number;
  expMeanMs: number;
  capacity: number;
  seed: number;
  stallAtS: number;
  stallMs: number;
  /** Records kept (RECORD_FIELDS float64 each); requests beyond are served but not recorded. */
  maxRecords: number;
  records: SharedArrayBuffer;
  /** Int32 [0] = records written. */
  counter: SharedArrayBuffer;
}

/** [x-seq, receive ms, response-written ms, drawn delay ms] per request. */
export const RECORD_FIELDS = 4;

/** When a request that starts service at startMs with delay d finishes, stall included. */
export function finishTimeMs(startMs: number, delayMs: number, stallStartMs: number, stallMs: number): number {
  const stallEndMs = stallStartMs + stallMs;
  if (stallMs <= 0 || startMs >= stallEndMs || startMs + delayMs <= stallStartMs) return startMs + delayMs;
  if (startMs < stallStartMs) return startMs + delayMs + stallMs; // in service when the world froze
  return stallEndMs + delayMs; // arrived during the stall: starts when it ends
}

/** Quantile of fixed + Exp(mean): fixed − mean·ln(1 − p). */
export function designedQuantileMs(fixedMs: number, expMeanMs: number, percentile: number): number {
  return fixedMs - expMeanMs * Math.log(1 - percentile / 100);
}
