// One way to get an ExchangeHost: with a data directory, the engine thread with its journal
// (WorkerHost); without, the in-process host with no durability (tests, tools).

import type { EngineConfig } from '../core/config.ts';
import type { ExchangeHost } from './host.ts';
import { InProcessHost } from './in-process-host.ts';
import type { ProjectionLimits } from './projections.ts';
import { WorkerHost } from './worker-host.ts';

export interface CreateHostOptions {
  config: EngineConfig;
  /** Journal directory; omitted = in-process host, nothing durable. */
  dataDir?: string;
  /** 'fsync' (default) | 'interval:<ms>' | 'none'. */
  policy?: string;
  clockTickMs?: number;
  queueMax?: number;
  projections?: Partial<ProjectionLimits>;
}

export async function createHost(o: CreateHostOptions): Promise<ExchangeHost> {
  if (o.dataDir === undefined) {
    return new InProcessHost(o.config, {
      ...(o.queueMax === undefined ? {} : { queueMax: o.queueMax }),
      ...(o.projections === undefined ? {} : { projections: o.projections }),
      ...(o.clockTickMs === undefined || o.clockTickMs === 0 ? {} : { clock: { now: Date.now, tickMs: o.clockTickMs } }),
    });
  }
  return WorkerHost.start({
    config: o.config, dataDir: o.dataDir, policy: o.policy ?? 'fsync',
    ...(o.queueMax === undefined ? {} : { pendingMax: o.queueMax }),
    ...(o.clockTickMs === undefined ? {} : { clockTickMs: o.clockTickMs }),
    ...(o.projections === undefined ? {} : { projections: o.projections }),
  });
}
