// The route table, built once: path → method → Route. Weights follow Binance USDⓈ-M
// (order endpoints charge IP weight 1 here, where Binance charges 0, so that no request
// is free); `orders` is what a request adds to the account's ORDERS counters.

import type { Ctx, Route, RouteKind } from './context.ts';
import * as acct from './handlers-account.ts';
import * as prof from './admin-profile.ts';
import * as mkt from './handlers-market.ts';
import * as trade from './handlers-trade.ts';
import { chaosRoutes } from './handlers-chaos.ts';
import type { GatewayChaos } from '../host/chaos-io.ts';
import type { Params } from './params.ts';

export type RouteTable = Map<string, Map<string, Route>>;

interface RouteOpts {
  weight?: number;
  weightOf?: (p: Params) => number;
  orders?: number;
  mutating?: boolean;
}

function route(method: string, path: string, kind: RouteKind, handler: (ctx: Ctx) => Promise<void> | void, o: RouteOpts = {}): Route {
  return {
    method, path, kind, handler, weight: o.weight ?? 1, weightOf: o.weightOf ?? null, orders: o.orders ?? 0,
    mutating: o.mutating ?? (kind === 'signed' && method !== 'GET'),
  };
}

export function buildRoutes(adminEnabled: boolean, chaos: GatewayChaos | null = null): RouteTable {
  const V1 = '/fapi/v1';
  const list: Route[] = [
    // Market data.
    route('GET', `${V1}/ping`, 'public', mkt.ping),
    route('GET', `${V1}/time`, 'public', mkt.time),
    route('GET', `${V1}/exchangeInfo`, 'public', mkt.exchangeInfo),
    route('GET', `${V1}/depth`, 'public', mkt.depth, { weightOf: mkt.depthWeight }),
    route('GET', `${V1}/trades`, 'public', mkt.trades, { weight: 5 }),
    route('GET', `${V1}/aggTrades`, 'public', mkt.aggTrades, { weight: 20 }),
    route('GET', `${V1}/ticker/24hr`, 'public', mkt.ticker24h, { weightOf: mkt.perSymbolWeight(1, 40) }),
    route('GET', `${V1}/ticker/price`, 'public', mkt.tickerPrice, { weightOf: mkt.perSymbolWeight(1, 2) }),
    route('GET', '/fapi/v2/ticker/price', 'public', mkt.tickerPrice, { weightOf: mkt.perSymbolWeight(1, 2) }),
    route('GET', `${V1}/ticker/bookTicker`, 'public', mkt.bookTicker, { weightOf: mkt.perSymbolWeight(2, 5) }),
    route('GET', `${V1}/premiumIndex`, 'public', mkt.premiumIndex, { weightOf: mkt.perSymbolWeight(1, 10) }),
    route('GET', `${V1}/fundingRate`, 'public', mkt.fundingRate),
    // Orders.
    route('POST', `${V1}/order`, 'signed', trade.newOrder, { orders: 1 }),
    route('PUT', `${V1}/order`, 'signed', trade.modifyOrder, { orders: 1 }),
    route('DELETE', `${V1}/order`, 'signed', trade.cancelOrder),
    route('GET', `${V1}/order`, 'signed', trade.getOrder),
    route('GET', `${V1}/openOrder`, 'signed', trade.getOpenOrder),
    route('GET', `${V1}/openOrders`, 'signed', trade.openOrders, { weightOf: mkt.perSymbolWeight(1, 40) }),
    route('DELETE', `${V1}/allOpenOrders`, 'signed', trade.cancelAll),
    route('GET', `${V1}/allOrders`, 'signed', trade.allOrders, { weight: 5 }),
    route('GET', `${V1}/userTrades`, 'signed', trade.userTrades, { weight: 5 }),
    route('POST', `${V1}/batchOrders`, 'signed', trade.batchOrders, { weight: 5, orders: 5 }),
    route('DELETE', `${V1}/batchOrders`, 'signed', trade.cancelBatch),
    // Conditional orders.
    route('POST', `${V1}/algoOrder`, 'signed', trade.newAlgoOrder, { orders: 1 }),
    route('GET', `${V1}/algoOrder`, 'signed', trade.getAlgoOrder),
    route('DELETE', `${V1}/algoOrder`, 'signed', trade.cancelAlgoOrder),
    route('GET', `${V1}/openAlgoOrders`, 'signed', trade.openAlgoOrders, { weightOf: mkt.perSymbolWeight(1, 40) }),
    route('DELETE', `${V1}/algoOpenOrders`, 'signed', trade.cancelAllAlgo),
    route('GET', `${V1}/allAlgoOrders`, 'signed', trade.allAlgoOrders, { weight: 5 }),
    // Account.
    route('POST', `${V1}/leverage`, 'signed', trade.setLeverage),
    route('GET', `${V1}/leverageBracket`, 'signed', trade.leverageBracket),
    route('GET', `${V1}/commissionRate`, 'signed', trade.commissionRate, { weight: 20 }),
    route('GET', `${V1}/positionSide/dual`, 'signed', acct.positionSideDual, { weight: 30 }),
    route('GET', '/fapi/v2/account', 'signed', acct.accountV2, { weight: 5 }),
    route('GET', '/fapi/v3/account', 'signed', acct.accountV3, { weight: 5 }),
    route('GET', '/fapi/v2/balance', 'signed', acct.balance, { weight: 5 }),
    route('GET', '/fapi/v3/balance', 'signed', acct.balance, { weight: 5 }),
    route('GET', '/fapi/v2/positionRisk', 'signed', acct.positionRiskV2Handler, { weight: 5 }),
    route('GET', '/fapi/v3/positionRisk', 'signed', acct.positionRiskV3Handler, { weight: 5 }),
    // User data stream keys.
    route('POST', `${V1}/listenKey`, 'apiKey', acct.listenKeyOpen),
    route('PUT', `${V1}/listenKey`, 'apiKey', acct.listenKeyKeepAlive),
    route('DELETE', `${V1}/listenKey`, 'apiKey', acct.listenKeyClose),
    // Health.
    route('GET', '/healthz', 'health', acct.healthz, { weight: 0 }),
    route('GET', '/readyz', 'health', acct.readyz, { weight: 0 }),
  ];
  if (adminEnabled) {
    const A = '/admin/v1';
    list.push(
      route('POST', `${A}/account`, 'admin', acct.adminCreateAccount, { weight: 0 }),
      route('POST', `${A}/deposit`, 'admin', acct.adminDeposit, { weight: 0 }),
      route('POST', `${A}/withdraw`, 'admin', acct.adminWithdraw, { weight: 0 }),
      route('POST', `${A}/indexPrice`, 'admin', acct.adminIndexPrice, { weight: 0 }),
      route('POST', `${A}/time`, 'admin', acct.adminTime, { weight: 0 }),
      route('GET', `${A}/totals`, 'admin', acct.adminTotals, { weight: 0 }),
      route('GET', `${A}/stateHash`, 'admin', acct.adminStateHash, { weight: 0 }),
      // On-demand CPU profiles / heap snapshots of every thread (harness/profiling).
      route('POST', `${A}/profile/cpu`, 'admin', prof.adminCpuProfile, { weight: 0 }),
      route('POST', `${A}/profile/heapSnapshot`, 'admin', prof.adminHeapSnapshot, { weight: 0 }),
    );
    // perpx serve --chaos only: fault hooks under /admin/v1/chaos (handlers-chaos.ts).
    if (chaos !== null) list.push(...chaosRoutes(chaos));
  }
  const table: RouteTable = new Map();
  for (const r of list) {
    let byMethod = table.get(r.path);
    if (byMethod === undefined) {
      byMethod = new Map();
      table.set(r.path, byMethod);
    }
    if (byMethod.has(r.method)) throw new Error(`duplicate route ${r.method} ${r.path}`);
    byMethod.set(r.method, r);
  }
  return table;
}
