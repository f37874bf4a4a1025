// One registry of rejection codes (Binance USDⓈ-M numbering). The core returns these as
// results; the gateway maps them to HTTP 400 + {code,msg}. Every code used by the core
// must be listed here (a test checks it).
export const ERR = {
  OK: 0,
  OVERLOADED: -1008,
  MANDATORY_PARAM: -1102,
  INVALID_TIF: -1115,
  INVALID_ORDER_TYPE: -1116,
  INVALID_SIDE: -1117,
  INVALID_SYMBOL: -1121,
  NEW_ORDER_REJECTED: -2010,
  CANCEL_REJECTED: -2011,
  NO_SUCH_ORDER: -2013,
  MARGIN_INSUFFICIENT: -2019,
  WOULD_TRIGGER: -2021,
  REDUCE_ONLY_REJECT: -2022,
  MAX_OPEN_ORDERS: -2025,
  MAX_POSITION: -2027,
  QTY_NOT_POSITIVE: -4003,
  QTY_BELOW_MIN: -4004,
  QTY_ABOVE_MAX: -4005,
  PRICE_BELOW_MIN: -4013,
  PRICE_NOT_TICK: -4014,
  CLIENT_ID_INVALID: -4015,
  PRICE_ABOVE_BAND: -4016,
  QTY_NOT_STEP: -4023,
  PRICE_BELOW_BAND: -4024,
  INVALID_LEVERAGE: -4028,
  DUPLICATE_CLIENT_ID: -4116,
  NOTIONAL_TOO_SMALL: -4164,
  FOK_REJECTED: -5021,
  GTX_REJECTED: -5022,
} as const;

export type ErrorCode = (typeof ERR)[keyof typeof ERR];

export const ERROR_MESSAGES: Record<number, string> = {
  [ERR.OVERLOADED]: 'Server is currently overloaded with other requests. Please try again in a few minutes.',
  [ERR.MANDATORY_PARAM]: 'A mandatory parameter was not sent, was empty/null, or malformed.',
  [ERR.INVALID_TIF]: 'Invalid timeInForce.',
  [ERR.INVALID_ORDER_TYPE]: 'Invalid orderType.',
  [ERR.INVALID_SIDE]: 'Invalid side.',
  [ERR.INVALID_SYMBOL]: 'Invalid symbol.',
  [ERR.NEW_ORDER_REJECTED]: 'New order rejected.',
  [ERR.CANCEL_REJECTED]: 'Unknown order sent.',
  [ERR.NO_SUCH_ORDER]: 'Order does not exist.',
  [ERR.MARGIN_INSUFFICIENT]: 'Margin is insufficient.',
  [ERR.WOULD_TRIGGER]: 'Order would immediately trigger.',
  [ERR.REDUCE_ONLY_REJECT]: 'ReduceOnly Order is rejected.',
  [ERR.MAX_OPEN_ORDERS]: 'Reach max open order limit.',
  [ERR.MAX_POSITION]: 'Exceeded the maximum allowable position at current leverage.',
  [ERR.QTY_NOT_POSITIVE]: 'Quantity less than or equal to zero.',
  [ERR.QTY_BELOW_MIN]: 'Quantity less than minimum quantity.',
  [ERR.QTY_ABOVE_MAX]: 'Quantity greater than maximum quantity.',
  [ERR.PRICE_BELOW_MIN]: 'Price less than minimum price.',
  [ERR.PRICE_NOT_TICK]: 'Price not increased by tick size.',
  [ERR.CLIENT_ID_INVALID]: 'Client order id is not valid.',
  [ERR.PRICE_ABOVE_BAND]: 'Limit price can not be higher than the allowed band.',
  [ERR.QTY_NOT_STEP]: 'Quantity not increased by step size.',
  [ERR.PRICE_BELOW_BAND]: 'Limit price can not be lower than the allowed band.',
  [ERR.INVALID_LEVERAGE]: 'Leverage is not valid.',
  [ERR.DUPLICATE_CLIENT_ID]: 'ClientOrderId is duplicated.',
  [ERR.NOTIONAL_TOO_SMALL]: "Order's notional must be no smaller than the minimum notional.",
  [ERR.FOK_REJECTED]: 'Due to the order could not be filled immediately, the FOK order has been rejected.',
  [ERR.GTX_REJECTED]: 'Due to the order could not be executed as maker, the Post Only order will be rejected.',
};

export function errorMessage(code: number, detail?: string): string {
  const base = ERROR_MESSAGES[code] ?? 'Unknown error.';
  return detail === undefined ? base : `${base} (${detail})`;
}
