// Commands: the only inputs of the core. Plain JSON-serializable objects (the journal
// stores them as they are); every field is validated by the engine, so a malformed
// command is a rejection, never an exception. Time and index prices arrive as commands.

export type SideName = 'BUY' | 'SELL';
export type OrderTypeName = 'LIMIT' | 'MARKET' | 'STOP' | 'STOP_MARKET' | 'TAKE_PROFIT' | 'TAKE_PROFIT_MARKET';
export type TifName = 'GTC' | 'IOC' | 'FOK' | 'GTX';
export type StpName = 'NONE' | 'EXPIRE_TAKER' | 'EXPIRE_MAKER' | 'EXPIRE_BOTH';
export type WorkingTypeName = 'MARK_PRICE' | 'CONTRACT_PRICE';

export interface CreateAccount { type: 'createAccount' }
export interface Deposit { type: 'deposit'; accountId: number; amountUnits: number }
export interface Withdraw { type: 'withdraw'; accountId: number; amountUnits: number }
export interface SetLeverage { type: 'setLeverage'; accountId: number; symbolId: number; leverage: number }
export interface PlaceOrder {
  type: 'place';
  accountId: number;
  symbolId: number;
  side: SideName;
  orderType: OrderTypeName;
  /** Ignored for MARKET / STOP_MARKET / TAKE_PROFIT_MARKET (they are IOC-like). */
  tif: TifName;
  /** Limit price in ticks; 0 for market types. */
  priceTicks: number;
  qtyLots: number;
  reduceOnly: boolean;
  /** '' = none. ^[.A-Z:/a-z0-9_-]{1,36}$, unique among the account's open orders. */
  clientOrderId: string;
  stpMode: StpName;
  /** Conditional types only; 0 otherwise. */
  triggerPriceTicks: number;
  workingType: WorkingTypeName;
}
/** orderId > 0 selects by id; otherwise clientOrderId. */
export interface CancelOrder { type: 'cancel'; accountId: number; symbolId: number; orderId: number; clientOrderId: string }
export interface CancelAll { type: 'cancelAll'; accountId: number; symbolId: number }
export interface ModifyOrder { type: 'modify'; accountId: number; symbolId: number; orderId: number; clientOrderId: string; priceTicks: number; qtyLots: number }
export interface SetIndexPrice { type: 'setIndexPrice'; symbolId: number; priceTicks: number }
export interface AdvanceTime { type: 'advanceTime'; timeMs: number }

export type Command =
  | CreateAccount
  | Deposit
  | Withdraw
  | SetLeverage
  | PlaceOrder
  | CancelOrder
  | CancelAll
  | ModifyOrder
  | SetIndexPrice
  | AdvanceTime;

export type CommandType = Command['type'];

/** A LIMIT GTC order with defaults filled in (tests, tools). */
export function limitOrder(accountId: number, symbolId: number, side: SideName, priceTicks: number, qtyLots: number, extra: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'place', accountId, symbolId, side, orderType: 'LIMIT', tif: 'GTC', priceTicks, qtyLots,
    reduceOnly: false, clientOrderId: '', stpMode: 'NONE', triggerPriceTicks: 0, workingType: 'CONTRACT_PRICE',
    ...extra,
  };
}

export function marketOrder(accountId: number, symbolId: number, side: SideName, qtyLots: number, extra: Partial<PlaceOrder> = {}): PlaceOrder {
  return limitOrder(accountId, symbolId, side, 0, qtyLots, { orderType: 'MARKET', tif: 'IOC', ...extra });
}
