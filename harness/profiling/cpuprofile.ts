// Read a V8 CPU profile (.cpuprofile: what `node --cpu-prof` and the inspector's Profiler.stop
// produce) into what the report shows: top functions by self and total time, and a pruned
// call tree for the flame graph, optionally for a time window only.
//
// Times: sample i lasts until sample i+1 (timeDeltas[i+1], µs). Profile timestamps are
// CLOCK_MONOTONIC µs on Linux — the same clock as process.hrtime() in any process on the
// machine — so a window measured by the harness maps onto a server's profile exactly
// (monotonicUsAt()).

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number; scriptId?: string };
  children?: number[];
  hitCount?: number;
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface TopFunction {
  name: string;
  /** "file.ts:line" (1-based), or '' for V8 pseudo-frames such as (garbage collector). */
  location: string;
  selfMs: number;
  totalMs: number;
  /** Shares of the busy (non-idle) time of this thread in the window. */
  selfShare: number;
  totalShare: number;
}

export interface FlameNode {
  name: string;
  location: string;
  totalMs: number;
  selfMs: number;
  children: FlameNode[];
}

export interface ProfileSummary {
  samples: number;
  windowMs: number;
  /** Time not idle: sampled in JS, native, GC or (program). */
  busyMs: number;
  idleMs: number;
  gcMs: number;
  top: TopFunction[];
  /** Busy time as a tree (idle left out), nodes under minShare of busyMs pruned into their parent's self time. */
  flame: FlameNode;
}

/** CLOCK_MONOTONIC µs (the profile clock) at a Date.now()-based wall time, from this process. */
export function monotonicUsAt(wallMs: number): number {
  const nowUs = Number(process.hrtime.bigint() / 1000n);
  return nowUs - (Date.now() - wallMs) * 1000;
}

/** Thread names as the metrics call them: the main thread is gateway-0, the engine worker "engine". */
export function displayThread(name: string): string {
  if (name === 'main') return 'gateway-0';
  if (name === 'engine-thread') return 'engine';
  return name;
}

const IDLE = '(idle)';
const GC = '(garbage collector)';

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/');
  return i < 0 ? url : url.slice(i + 1);
}

function frameName(n: CpuProfileNode): string {
  return n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName;
}

function frameLocation(n: CpuProfileNode): string {
  return n.callFrame.url === '' ? '' : `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
}

/** Per-node sampled time (ms) within [fromUs, toUs). */
function selfTimes(p: CpuProfile, fromUs: number, toUs: number): { self: Map<number, number>; samples: number; windowMs: number } {
  const self = new Map<number, number>();
  let t = p.startTime;
  let samples = 0;
  const n = p.samples.length;
  const meanDelta = n > 1 ? (p.endTime - p.startTime) / n : 0;
  for (let i = 0; i < n; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    const dur = i + 1 < n ? p.timeDeltas[i + 1]! : meanDelta;
    if (!(dur > 0)) continue;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dur / 1000);
    samples++;
  }
  const lo = Math.max(fromUs, p.startTime);
  const hi = Math.min(toUs, p.endTime);
  return { self, samples, windowMs: Math.max(0, hi - lo) / 1000 };
}

/** Summarize a profile (whole, or the samples whose timestamps fall in [fromUs, toUs)). */
export function summarizeProfile(p: CpuProfile, opts: { fromUs?: number; toUs?: number; topN?: number; minShare?: number } = {}): ProfileSummary {
  const { self, samples, windowMs } = selfTimes(p, opts.fromUs ?? -Infinity, opts.toUs ?? Infinity);
  const byId = new Map(p.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const root = p.nodes.find((n) => !parent.has(n.id)) ?? p.nodes[0]!;

  // Subtree totals, children before parents (iterative post-order: profiles can be deep).
  const total = new Map<number, number>();
  const order: number[] = [];
  const stack = [root.id];
  while (stack.length > 0) {
    const id = stack.pop()!;
    order.push(id);
    for (const c of byId.get(id)?.children ?? []) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    let t = self.get(id) ?? 0;
    for (const c of byId.get(id)?.children ?? []) t += total.get(c) ?? 0;
    total.set(id, t);
  }

  let idleMs = 0;
  let gcMs = 0;
  const fnSelf = new Map<string, { name: string; location: string; selfMs: number; totalMs: number }>();
  const keyOf = (n: CpuProfileNode): string => `${frameName(n)}\u0000${frameLocation(n)}`;
  for (const n of p.nodes) {
    const s = self.get(n.id) ?? 0;
    if (n.callFrame.functionName === IDLE) { idleMs += s; continue; }
    if (n.callFrame.functionName === GC) gcMs += s;
    if (n === root) continue;
    const k = keyOf(n);
    const e = fnSelf.get(k) ?? { name: frameName(n), location: frameLocation(n), selfMs: 0, totalMs: 0 };
    e.selfMs += s;
    // Total: count a function once per stack (skip nodes with the same function above them).
    let a = parent.get(n.id);
    let recursive = false;
    while (a !== undefined) {
      if (keyOf(byId.get(a)!) === k) { recursive = true; break; }
      a = parent.get(a);
    }
    if (!recursive) e.totalMs += total.get(n.id) ?? 0;
    fnSelf.set(k, e);
  }
  let busyMs = 0;
  for (const [id, s] of self) if (byId.get(id)?.callFrame.functionName !== IDLE) busyMs += s;
  const share = (x: number): number => (busyMs > 0 ? x / busyMs : 0);
  const top = [...fnSelf.values()].filter((e) => e.selfMs > 0 || e.totalMs > 0)
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, opts.topN ?? 20)
    .map((e) => ({ ...e, selfShare: share(e.selfMs), totalShare: share(e.totalMs) }));

  const minMs = busyMs * (opts.minShare ?? 0.005);
  const build = (n: CpuProfileNode): FlameNode => {
    // Merge children that are the same function (V8 splits nodes by line/column).
    const merged = new Map<string, CpuProfileNode[]>();
    for (const c of n.children ?? []) {
      const cn = byId.get(c)!;
      if (cn.callFrame.functionName === IDLE) continue;
      const list = merged.get(keyOf(cn)) ?? [];
      list.push(cn);
      merged.set(keyOf(cn), list);
    }
    const children: FlameNode[] = [];
    let selfMs = n === root ? 0 : self.get(n.id) ?? 0;
    for (const group of merged.values()) {
      const t = group.reduce((a, g) => a + (total.get(g.id) ?? 0), 0);
      if (t < minMs || t <= 0) { selfMs += t; continue; }
      const built = group.map(build);
      const first = built[0]!;
      for (const b of built.slice(1)) { first.totalMs += b.totalMs; first.selfMs += b.selfMs; first.children.push(...b.children); }
      children.push(first);
    }
    children.sort((a, b) => b.totalMs - a.totalMs);
    const totalMs = n === root ? busyMs : total.get(n.id) ?? 0;
    return { name: n === root ? 'all busy time' : frameName(n), location: frameLocation(n), totalMs, selfMs, children };
  };
  return { samples, windowMs, busyMs, idleMs, gcMs, top, flame: build(root) };
}
