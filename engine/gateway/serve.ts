// `perpx serve` / `npm run serve`: the REST gateway over the engine thread.
//
//   node engine/gateway/serve.ts [--port 8080] [--host 0.0.0.0] [--data ./data]
//        [--fsync fsync|interval:<ms>|none] [--in-process] [--config perpx.json] [--dev]
//        [--no-rate-limit]
//
// Default: the engine runs on its own worker thread with the journal in --data (recovery
// at start, group-commit fsync, snapshots); --in-process runs it on this thread with no
// journal at all (nothing survives a restart, and the server says so).
// PERPX_PORT sets the default port, PERPX_ADMIN_TOKEN enables /admin/v1 (--dev makes a
// random token and a funded demo account and prints both). SIGTERM/SIGINT: stop accepting,
// finish queued commands, exit 0. --chaos adds fault hooks under /admin/v1/chaos (journal disk
// faults, event-loop blocks; engine/gateway/handlers-chaos.ts): for chaos experiments only.

import { parseArgs } from 'node:util';
import { randomKey } from './auth.ts';
import { loadServeConfig } from './serve-config.ts';
import type { GatewayHandle } from './server.ts';
import { InProcessHost, CLOCK_TICK_MS_DEFAULT } from '../host/in-process-host.ts';
import { WorkerHost } from '../host/worker-host.ts';
import type { ExchangeHost } from '../host/host.ts';
import type { GatewayChaos } from '../host/chaos-io.ts';
import { parsePolicy } from '../journal/policy.ts';
import { PersistentKeyStore } from './key-file.ts';
import { toTicks, toUnits } from './markets.ts';

const DEV_DEPOSIT = '100000';
const SHUTDOWN_GRACE_MS = 5_000;
const DEV_INDEX_PRICES: Record<string, string> = { BTCUSDT: '60000', ETHUSDT: '3000' };

function usage(): string {
  return 'usage: perpx serve [--port N] [--host ADDR] [--data DIR] [--fsync fsync|interval:<ms>|none] [--in-process] [--config FILE] [--dev] [--no-rate-limit] [--chaos]';
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== 'serve'),
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      fsync: { type: 'string' },
      'in-process': { type: 'boolean', default: false },
      config: { type: 'string' },
      dev: { type: 'boolean', default: false },
      'no-rate-limit': { type: 'boolean', default: false },
      chaos: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage());
    return;
  }
  const portText = values.port ?? process.env.PERPX_PORT ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`bad port ${portText}\n${usage()}`);
  const dataDir = values.data ?? './data';
  const cfg = loadServeConfig(values.config);
  let adminToken = process.env.PERPX_ADMIN_TOKEN;
  if (values.dev && (adminToken === undefined || adminToken === '')) adminToken = randomKey();

  const policy = values.fsync ?? 'fsync';
  parsePolicy(policy); // a bad policy is a one-line error before anything starts
  if (values.chaos) {
    const where = adminToken === undefined || adminToken === '' ? 'but the admin API is off (set PERPX_ADMIN_TOKEN), so no route is reachable' : 'at /admin/v1/chaos (journal disk faults, event-loop blocks)';
    console.log(`WARNING: CHAOS HOOKS ENABLED ${where}. Never run a real exchange with --chaos.`);
  }
  let host: ExchangeHost;
  let durability: string;
  let chaos: GatewayChaos | undefined;
  // The engine thread starts first and recovers while this thread loads the gateway's modules
  // (HTTP, WebSocket, telemetry): on 2 cores the two overlap instead of adding up.
  const workerHostP = values['in-process'] ? null : WorkerHost.start({ config: cfg.engine, dataDir, policy, pendingMax: cfg.queueMax, clockTickMs: cfg.clockTickMs ?? CLOCK_TICK_MS_DEFAULT, snapshotEveryMs: 60_000, projections: cfg.projections, chaos: values.chaos });
  workerHostP?.catch(() => {}); // handled by the await below; not an unhandled rejection meanwhile
  const { startGateway } = await import('./server.ts');
  if (workerHostP === null) {
    host = new InProcessHost(cfg.engine, { queueMax: cfg.queueMax, batchMax: cfg.batchMax, clock: { now: Date.now, tickMs: cfg.clockTickMs }, projections: cfg.projections });
    durability = 'WARNING: --in-process: no journal, nothing is durable; every restart starts empty';
  } else {
    const wh = await workerHostP;
    if (values.chaos) chaos = { disk: (op, plan) => wh.chaosDisk(op, plan) };
    if (wh.recoveryLine !== '') console.log(wh.recoveryLine);
    console.log(`recovered to seq ${wh.recoveredSeq}, state hash ${wh.recoveredStateHash}`);
    host = wh;
    durability = `fsync policy: ${wh.policyLine}`;
  }
  const engineSlab = host instanceof WorkerHost ? host.telemetrySlab : null;
  const gw = await startGateway({
    host, port, hostname: values.host ?? '0.0.0.0', adminToken, noRateLimit: values['no-rate-limit'], limits: cfg.limits, rateLimits: cfg.rateLimits,
    ...(engineSlab === null ? {} : { telemetry: { peerSlabs: [engineSlab] } }),
    keys: values['in-process'] ? undefined : new PersistentKeyStore(dataDir),
    chaos: values.chaos ? (chaos ?? { disk: null }) : undefined,
  });
  const index = { ...(values.dev ? DEV_INDEX_PRICES : {}), ...cfg.indexPrices };
  for (const [name, text] of Object.entries(index)) {
    const m = gw.state.markets.byName.get(name);
    if (m === undefined) continue;
    const ev = await host.submit({ type: 'setIndexPrice', symbolId: m.id, priceTicks: toTicks(m, text, 'price') });
    if (ev.events[0]?.type === 'reject') throw new Error(`index price ${name}=${text}: ${ev.events[0].msg}`);
  }

  console.log(`perpx gateway listening on ${gw.url} (bound to ${values.host ?? '0.0.0.0'}:${gw.port})`);
  console.log(`symbols: ${gw.state.markets.list.map((m) => m.name).join(', ')}`);
  console.log(`data dir: ${values['in-process'] ? `${dataDir} (unused: --in-process)` : dataDir}`);
  console.log(durability);
  console.log(`rate limits: ${values['no-rate-limit'] ? 'off' : 'on'}; admin API: ${adminToken === undefined || adminToken === '' ? 'off' : 'on (/admin/v1, header X-PERPX-ADMIN)'}`);
  const unpriced = gw.state.markets.list.filter((m) => index[m.name] === undefined).map((m) => m.name);
  if (unpriced.length > 0) console.log(`note: no index price yet for ${unpriced.join(', ')}; orders are rejected (-2010) until POST /admin/v1/indexPrice or config "indexPrices"`);
  if (values.dev) await devAccount(gw, host, adminToken!);

  installShutdown(gw, host);
}

async function devAccount(gw: GatewayHandle, host: ExchangeHost, adminToken: string): Promise<void> {
  const created = await host.submit({ type: 'createAccount' });
  const ev = created.events[0];
  if (ev?.type !== 'accountCreated') throw new Error('could not create the demo account');
  const rec = gw.state.keys.create(ev.accountId);
  await host.submit({ type: 'deposit', accountId: ev.accountId, amountUnits: toUnits(gw.state.markets, DEV_DEPOSIT, 'deposit') });
  console.log(`dev admin token: ${adminToken}`);
  console.log(`dev account ${ev.accountId} funded with ${DEV_DEPOSIT} ${gw.state.markets.marginAsset}`);
  console.log(`  apiKey:    ${rec.apiKey}`);
  console.log(`  secretKey: ${rec.secretKey}`);
}

function installShutdown(gw: GatewayHandle, host: ExchangeHost): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (no new connections, finishing queued commands, final fsync and snapshot)`);
    void gw.close(SHUTDOWN_GRACE_MS).then(() => host.close()).then(() => {
      console.log('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  console.error(`perpx serve: ${(e as Error).message ?? String(e)}`);
  process.exit(1);
});
