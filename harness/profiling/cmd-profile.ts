// `perpx profile <cpu|heap|doctor|flame|heapprofiler> [--quick] [--runs-dir DIR] [--id ID]`

import { parseArgs } from 'node:util';
import { runProfile, PROFILE_KINDS } from './profile-run.ts';
import type { ProfileKind } from './profile-run.ts';
import type { Progress } from '../load.ts';

export const PROFILE_HELP = `perpx profile <kind> [--quick] [--runs-dir DIR] [--id ID]

Runs the default spike campaign (perpx run: 200 → 2,000 orders/s; --quick: 100 → 1,000,
12 s) against a perpx server started under a profiler, and adds the result to that run's
report (reports/runs/<id>/report.html, section "Profiling"; results.json "profiling").

kinds:
  cpu           V8 CPU profile of every thread (node --cpu-prof, 1 ms): profiles/cpu-gateway-0.cpuprofile
                (main thread) and profiles/cpu-engine.cpuprofile (engine worker) — open them in Chrome DevTools
                (Performance → Load profile) or the bundled offline speedscope page linked from
                the report; the report has per-thread top functions (self/total) and a flame
                graph of the spike window, and top functions over the server's lifetime.
  heap          heap snapshots of every thread before and after the load (admin API, node:inspector):
                profiles/heap-{before,after}-<thread>.heapsnapshot (Chrome DevTools → Memory → Load);
                the report lists what grew, by constructor (count, shallow bytes).
  doctor        clinic doctor 11 (@clinic/doctor): works on Node 24 here with two fixes perpx applies:
                perpx serve exits with process.exit() after its graceful stop, so doctor's sampler
                never flushed (visualize: "Decoded message is not valid"); and the sampler, preloaded
                through NODE_OPTIONS, also ran in the engine worker thread and wrote into the same
                file ("The value of \\"offset\\" is out of range"). clinic/doctor.html.
  flame         clinic flame 13 (@clinic/flame, 0x): works; clinic/server.clinic-flame.html.
                Its post-processing is slow (≈ 1 min for the quick run on a loaded 2-core box).
  heapprofiler  clinic heap-profiler 5 (@clinic/heap-profiler): works; main thread only (it samples
                the thread it is preloaded into, not the engine worker).
  (bubbleprof is not offered: it hangs because its log stream never finishes.)

options:
  --quick            the 12-second spike (smoke test)
  --runs-dir DIR     where run directories go (default reports/runs)
  --id ID            run id (default <timestamp>-profile-<kind>)

The profiled server is slower than an unprofiled one: the run's thresholds and verdict are
printed for information; the exit code says whether the profile was produced.
Exit: 0 profile produced, 1 the profiler produced nothing usable (the report says why), 2 bad usage.
perpx run captures a CPU profile of its worst latency window on its own (see --no-cpu-profile).
`;

export async function cmdProfile(args: string[]): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {
      quick: { type: 'boolean' }, 'runs-dir': { type: 'string' }, id: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    } }));
  } catch (e) {
    process.stderr.write(`perpx profile: ${(e as Error).message.split('\n')[0]!.replace(/^(Unknown option '[^']*'\.).*$/, '$1')}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(PROFILE_HELP);
    return 0;
  }
  const kind = positionals[0];
  if (kind === undefined || !(PROFILE_KINDS as readonly string[]).includes(kind) || positionals.length > 1) {
    process.stderr.write(`perpx profile: expected one kind of ${PROFILE_KINDS.join(', ')}${kind === undefined ? '' : `, got ${JSON.stringify(positionals.join(' '))}`} (perpx profile --help)\n`);
    return 2;
  }
  const abort = new AbortController();
  const onSigint = (): void => { process.stderr.write('\nperpx profile: interrupted — finishing the run and writing the report\n'); abort.abort(); };
  process.once('SIGINT', onSigint);
  const line = (p: Progress): string => `t=${String(p.second).padStart(4)}s ${p.phase.padEnd(10).slice(0, 10)} offered ${Math.round(p.offeredRps)}/s p99 ${p.p99Ms === null ? 'n/a' : `${p.p99Ms.toFixed(1)} ms`}`;
  try {
    const r = await runProfile({
      kind: kind as ProfileKind, quick: values.quick === true, signal: abort.signal,
      onProgress: (p) => process.stderr.write(`${line(p)}\n`),
      ...(values['runs-dir'] === undefined ? {} : { runsDir: values['runs-dir'] }),
      ...(values.id === undefined ? {} : { id: values.id }),
    });
    const out: string[] = [''];
    for (const c of r.profiling.cpu ?? []) {
      out.push(`CPU ${c.label} (t=${c.fromS.toFixed(1)}-${c.toS.toFixed(1)} s):`);
      for (const t of c.threads) {
        out.push(`  ${t.thread}: ${t.samples} samples, busy ${t.busyMs.toFixed(0)} of ${t.windowMs.toFixed(0)} ms, GC ${t.gcMs.toFixed(0)} ms — ${t.file}`);
        for (const f of t.top.slice(0, 5)) out.push(`    ${(f.selfShare * 100).toFixed(1).padStart(5)}% self ${(f.totalShare * 100).toFixed(1).padStart(5)}% total  ${f.name} ${f.location}`);
      }
    }
    for (const t of r.profiling.heap?.threads ?? []) {
      out.push(`heap ${t.thread}: ${(t.beforeBytes / 1e6).toFixed(2)} → ${(t.afterBytes / 1e6).toFixed(2)} MB; grew most:`);
      for (const g of t.rows.slice(0, 5)) out.push(`    ${g.name}: ${g.countBefore} → ${g.countAfter} objects, ${g.bytesBefore} → ${g.bytesAfter} B`);
    }
    for (const e of r.profiling.heap?.errors ?? []) out.push(`heap: ${e}`);
    for (const c of r.profiling.clinic ?? []) out.push(c.ok ? `clinic ${c.tool}: ${c.html} (${c.check ?? ''})` : `clinic ${c.tool}: NO REPORT — ${c.failure ?? ''}`);
    out.push(`run verdict (informative under a profiler): exit ${r.runExitCode}`);
    out.push(`report: ${r.reportHtml}`);
    process.stdout.write(`${out.join('\n')}\n`);
    return r.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
