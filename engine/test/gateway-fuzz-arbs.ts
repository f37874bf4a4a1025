// Arbitraries of HTTP requests for the gateway fuzzer: a mostly-valid request for a
// catalogued endpoint, then mutations (missing / extra / duplicated parameters, wrong
// types, huge numbers, negative or off-tick prices, bad symbols, raw malformed encoding),
// an authentication variant (bad or missing key, bad or missing signature, foreign
// secret, skewed timestamp, bad recvWindow, replay) and a transport variant (oversized
// body or head, JSON body, garbage bytes). The runner turns a spec into bytes.

import fc from 'fast-check';

export type Pair = [string, string];
export type AuthKind = 'public' | 'signed' | 'apiKey' | 'admin';

export interface Endpoint {
  method: string;
  path: string;
  auth: AuthKind;
  params: fc.Arbitrary<Pair[]>;
}

export type Mutation =
  | { kind: 'drop'; index: number }
  | { kind: 'dup'; index: number; value: string | null }
  | { kind: 'extra'; key: string; value: string }
  | { kind: 'replace'; index: number; value: string }
  | { kind: 'symbol'; value: string }
  | { kind: 'raw'; segment: string }
  | { kind: 'number'; field: string; value: string };

export type AuthVariant =
  | 'good' | 'noKey' | 'badKeyFormat' | 'unknownKey' | 'badSignature' | 'noSignature' | 'foreignSecret' | 'upperHexSignature'
  | 'stale' | 'future' | 'recvWindowTooBig' | 'recvWindowBad' | 'noTimestamp' | 'replay';

export type Transport = 'normal' | 'oversizedBody' | 'oversizedHeader' | 'jsonBody' | 'garbage';
export type Placement = 'query' | 'body' | 'split';

export interface RequestSpec {
  endpoint: Endpoint;
  mutations: Mutation[];
  auth: AuthVariant;
  placement: Placement;
  transport: Transport;
  /** Which account signs (0 or 1). */
  account: number;
}

// ---- valid-ish values ----------------------------------------------------------------

const symbol = fc.constantFrom('BTCUSDT', 'ETHUSDT');
const side = fc.constantFrom('BUY', 'SELL');
const dec = (units: number, decimals: number) => {
  const s = String(units).padStart(decimals + 1, '0');
  return decimals === 0 ? s : `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
};
/** A price within ±4 % of the index (BTCUSDT 60000 / tick 0.1, ETHUSDT 3000 / tick 0.01). */
const priceOf = (sym: string) => (sym === 'BTCUSDT' ? fc.integer({ min: 576_000, max: 624_000 }).map((t) => dec(t, 1)) : fc.integer({ min: 288_000, max: 312_000 }).map((t) => dec(t, 2)));
const qty = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000 }) }).map((n) => dec(n, 3));
const orderId = fc.integer({ min: 1, max: 80 }).map(String);
const clientId = fc.constantFrom('fz-a', 'fz-b', 'fz-c', 'fz-d', 'fz-e', 'fz-f', 'fz-g', 'fz-h', 'x'.repeat(37), 'bad id!', '');
const newClientId = fc.oneof({ weight: 6, arbitrary: fc.uuid().map((u) => `fz-${u.slice(0, 13)}`) }, { weight: 1, arbitrary: clientId });
const tif = fc.constantFrom('GTC', 'GTC', 'IOC', 'FOK', 'GTX');

function opt(key: string, arb: fc.Arbitrary<string>): fc.Arbitrary<Pair[]> {
  return fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? [] : [[key, v] as Pair]));
}

function join(...parts: fc.Arbitrary<Pair[]>[]): fc.Arbitrary<Pair[]> {
  return fc.tuple(...parts).map((xs) => xs.flat());
}

const newOrder = symbol.chain((sym) => fc.record({ side, type: fc.constantFrom('LIMIT', 'LIMIT', 'MARKET'), tif, q: qty, p: priceOf(sym) }).chain((o) => join(
  fc.constant<Pair[]>([['symbol', sym], ['side', o.side], ['type', o.type], ['quantity', o.q]]),
  fc.constant<Pair[]>(o.type === 'LIMIT' ? [['timeInForce', o.tif], ['price', o.p]] : []),
  opt('newClientOrderId', newClientId), opt('reduceOnly', fc.constantFrom('true', 'false', 'false', 'false')), opt('newOrderRespType', fc.constantFrom('ACK', 'RESULT')),
  opt('selfTradePreventionMode', fc.constantFrom('NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH')), opt('positionSide', fc.constantFrom('BOTH', 'BOTH', 'BOTH', 'BOTH', 'BOTH', 'BOTH', 'BOTH', 'LONG')),
)));

const modify = symbol.chain((sym) => join(
  fc.constant<Pair[]>([['symbol', sym]]), side.map((s) => [['side', s] as Pair]), orderId.map((id) => [['orderId', id] as Pair]),
  qty.map((q) => [['quantity', q] as Pair]), priceOf(sym).map((p) => [['price', p] as Pair]),
));

const byId = symbol.chain((sym) => join(
  fc.constant<Pair[]>([['symbol', sym]]),
  fc.oneof(orderId.map((id) => [['orderId', id] as Pair]), clientId.map((c) => [['origClientOrderId', c] as Pair])),
));

const algo = symbol.chain((sym) => fc.record({ side, type: fc.constantFrom('STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT'), q: qty, p: priceOf(sym), t: priceOf(sym) }).chain((o) => join(
  fc.constant<Pair[]>([['algoType', 'CONDITIONAL'], ['symbol', sym], ['side', o.side], ['type', o.type], ['quantity', o.q], ['triggerPrice', o.t]]),
  fc.constant<Pair[]>(o.type === 'STOP' || o.type === 'TAKE_PROFIT' ? [['price', o.p], ['timeInForce', 'GTC']] : []),
  opt('workingType', fc.constantFrom('MARK_PRICE', 'CONTRACT_PRICE')), opt('reduceOnly', fc.constantFrom('true', 'false')), opt('clientAlgoId', clientId),
)));

const batch = fc.array(newOrder, { minLength: 1, maxLength: 6 }).map((orders) => {
  const objs = orders.map((o) => Object.fromEntries(o));
  return [['batchOrders', JSON.stringify(objs)] as Pair];
});

const history = symbol.chain((sym) => join(
  fc.constant<Pair[]>([['symbol', sym]]), opt('limit', fc.constantFrom('1', '10', '500', '1000', '1001', '0')),
  opt('orderId', orderId), opt('startTime', fc.constantFrom('0', '1767225600000')),
));

const justSymbol = symbol.map((s) => [['symbol', s] as Pair]);
const optSymbol = opt('symbol', symbol);
const none = fc.constant<Pair[]>([]);

export const ENDPOINTS: Endpoint[] = [
  { method: 'POST', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
  { method: 'POST', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
  { method: 'POST', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
  { method: 'POST', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
  { method: 'POST', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
  { method: 'PUT', path: '/fapi/v1/order', auth: 'signed', params: modify },
  { method: 'DELETE', path: '/fapi/v1/order', auth: 'signed', params: byId },
  { method: 'GET', path: '/fapi/v1/order', auth: 'signed', params: byId },
  { method: 'GET', path: '/fapi/v1/openOrder', auth: 'signed', params: byId },
  { method: 'GET', path: '/fapi/v1/openOrders', auth: 'signed', params: optSymbol },
  { method: 'DELETE', path: '/fapi/v1/allOpenOrders', auth: 'signed', params: justSymbol },
  { method: 'GET', path: '/fapi/v1/allOrders', auth: 'signed', params: history },
  { method: 'GET', path: '/fapi/v1/userTrades', auth: 'signed', params: history },
  { method: 'POST', path: '/fapi/v1/batchOrders', auth: 'signed', params: batch },
  { method: 'POST', path: '/fapi/v1/algoOrder', auth: 'signed', params: algo },
  { method: 'GET', path: '/fapi/v1/algoOrder', auth: 'signed', params: orderId.map((id) => [['algoId', id] as Pair]) },
  { method: 'DELETE', path: '/fapi/v1/algoOrder', auth: 'signed', params: orderId.map((id) => [['algoId', id] as Pair]) },
  { method: 'GET', path: '/fapi/v1/openAlgoOrders', auth: 'signed', params: optSymbol },
  { method: 'POST', path: '/fapi/v1/leverage', auth: 'signed', params: join(justSymbol, fc.integer({ min: 0, max: 130 }).map((n) => [['leverage', String(n)] as Pair])) },
  { method: 'GET', path: '/fapi/v1/leverageBracket', auth: 'signed', params: optSymbol },
  { method: 'GET', path: '/fapi/v2/account', auth: 'signed', params: none },
  { method: 'GET', path: '/fapi/v3/account', auth: 'signed', params: none },
  { method: 'GET', path: '/fapi/v2/balance', auth: 'signed', params: none },
  { method: 'GET', path: '/fapi/v3/positionRisk', auth: 'signed', params: optSymbol },
  { method: 'GET', path: '/fapi/v2/positionRisk', auth: 'signed', params: optSymbol },
  { method: 'POST', path: '/fapi/v1/listenKey', auth: 'apiKey', params: none },
  { method: 'PUT', path: '/fapi/v1/listenKey', auth: 'apiKey', params: none },
  { method: 'GET', path: '/fapi/v1/depth', auth: 'public', params: join(justSymbol, opt('limit', fc.constantFrom('5', '100', '1000', '5000', 'x'))) },
  { method: 'GET', path: '/fapi/v1/trades', auth: 'public', params: justSymbol },
  { method: 'GET', path: '/fapi/v1/aggTrades', auth: 'public', params: join(justSymbol, opt('fromId', orderId)) },
  { method: 'GET', path: '/fapi/v1/ticker/24hr', auth: 'public', params: optSymbol },
  { method: 'GET', path: '/fapi/v1/ticker/bookTicker', auth: 'public', params: optSymbol },
  { method: 'GET', path: '/fapi/v1/premiumIndex', auth: 'public', params: optSymbol },
  { method: 'GET', path: '/fapi/v1/fundingRate', auth: 'public', params: optSymbol },
  { method: 'GET', path: '/fapi/v1/exchangeInfo', auth: 'public', params: none },
  { method: 'POST', path: '/admin/v1/deposit', auth: 'admin', params: fc.constant<Pair[]>([['accountId', '0'], ['amount', '5']]) },
  { method: 'POST', path: '/admin/v1/indexPrice', auth: 'admin', params: fc.constant<Pair[]>([['symbol', 'BTCUSDT'], ['price', '1']]) },
  { method: 'GET', path: '/fapi/v9/unknown', auth: 'public', params: none },
  { method: 'PATCH', path: '/fapi/v1/order', auth: 'signed', params: newOrder },
];

// ---- mutations -------------------------------------------------------------------------

export const BAD_VALUES = [
  '', ' ', 'abc', '-1', '-0.1', '0', '0.0', '1e5', '1E-3', '0x10', 'NaN', 'Infinity', 'null', 'true', '[]', '{}', '∞', '１２３',
  '99999999999999999999', '1'.concat('0'.repeat(40)), '0.000000001', '0.00000000000000000001', '60000.05', '60000.123', '0.0001',
  '-60000', '3000.001', '1.5', '12345678.9', '9007199254740993', '-9007199254740993', 'BTCUSDT', 'x'.repeat(300), '%', '\u0000',
  '<script>', "'; DROP TABLE orders;--", 'GTD', 'HOLD', 'STOP_MARKET', 'TRAILING_STOP_MARKET', 'LONG',
];

/** Numbers at the edges of the symbol filters: off-tick, off-step, over-precise, negative, huge, tiny. */
export const EDGE_NUMBERS = [
  '60000.05', '60000.15', '3000.005', '59999.99', '60000.000000001', '0.0005', '0.0015', '0.0105', '0.000000001', '-1', '-0.001', '0', '0.0',
  '1e3', '99999999', '123456789012', '1000001', '1000000.1', '0.001', '0.002', '1000', '1500', '120.001', '5000.1', '0.1', '1',
  '00060000.0', '60000.', '.5', '60000.00000000', '61000', '66000', '54000', '3300', '2700',
];

const badValue = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...BAD_VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double({ noNaN: false }).map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String) },
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), index: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), index: fc.nat(), value: fc.option(badValue, { nil: null }) }),
  fc.record({ kind: fc.constant('extra' as const), key: fc.constantFrom('foo', 'quantity2', 'SYMBOL', 'a'.repeat(80), 'stopPrice', 'closePosition', 'priceMatch'), value: badValue }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), index: fc.nat(), value: badValue }) },
  fc.record({ kind: fc.constant('symbol' as const), value: fc.constantFrom('XYZUSDT', 'btcusdt', '', 'BTCUSDT ', 'BTC', 'ETHUSDT') }),
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('number' as const), field: fc.constantFrom('price', 'quantity', 'quantity', 'triggerPrice', 'leverage', 'limit'), value: fc.constantFrom(...EDGE_NUMBERS) }) },
  fc.record({ kind: fc.constant('raw' as const), segment: fc.constantFrom('%zz', '&&&', '=', 'a=%E0%A4%A', '=x', 'k=v=w', '+++', '%00=1', 'price=%', 'symbol=BTCUSDT') }),
);

const auth: fc.Arbitrary<AuthVariant> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('good' as const) },
  { weight: 1, arbitrary: fc.constantFrom<AuthVariant>('noKey', 'badKeyFormat', 'unknownKey', 'badSignature', 'noSignature', 'foreignSecret', 'upperHexSignature',
    'stale', 'future', 'recvWindowTooBig', 'recvWindowBad', 'noTimestamp', 'replay') },
);

const transport: fc.Arbitrary<Transport> = fc.oneof(
  { weight: 30, arbitrary: fc.constant('normal' as const) },
  { weight: 1, arbitrary: fc.constantFrom<Transport>('oversizedBody', 'oversizedHeader', 'jsonBody', 'garbage') },
);

export type GeneratedRequest = RequestSpec & { params: Pair[] };

export const requestSpec: fc.Arbitrary<GeneratedRequest> = fc.record({
  endpoint: fc.constantFrom(...ENDPOINTS),
  account: fc.constantFrom(0, 0, 1),
  auth,
  placement: fc.constantFrom<Placement>('query', 'body', 'split'),
  transport,
  mutations: fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
}).chain((s) => s.endpoint.params.map((params) => ({ ...s, params })));

/** Apply mutations to the parameter list (duplicates stay expressible: it is a list). */
export function mutate(params: Pair[], mutations: Mutation[]): { pairs: Pair[]; raw: string[] } {
  const pairs = params.map((p) => [p[0], p[1]] as Pair);
  const raw: string[] = [];
  for (const m of mutations) {
    const i = pairs.length === 0 ? -1 : ('index' in m ? m.index % pairs.length : -1);
    switch (m.kind) {
      case 'drop': if (i >= 0) pairs.splice(i, 1); break;
      case 'dup': if (i >= 0) pairs.push([pairs[i]![0], m.value ?? pairs[i]![1]]); break;
      case 'extra': pairs.push([m.key, m.value]); break;
      case 'replace': if (i >= 0) pairs[i] = [pairs[i]![0], m.value]; break;
      case 'symbol': {
        const at = pairs.findIndex((p) => p[0] === 'symbol');
        if (at >= 0) pairs[at] = ['symbol', m.value];
        else pairs.push(['symbol', m.value]);
        break;
      }
      case 'raw': raw.push(m.segment); break;
      case 'number': {
        const at = pairs.findIndex((p) => p[0] === m.field);
        if (at >= 0) pairs[at] = [m.field, m.value];
        break;
      }
    }
  }
  return { pairs, raw };
}
