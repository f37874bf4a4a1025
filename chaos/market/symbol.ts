// Tick and step of a symbol (from /fapi/v1/exchangeInfo) and exact price/quantity text, so
// market faults work in integer ticks and lots like the engine does.

import { publicGet } from '../signed-rest.ts';

export interface SymbolSteps {
  symbol: string;
  tick: number;
  step: number;
  priceDecimals: number;
  qtyDecimals: number;
}

function decimalsOf(text: string): number {
  const t = text.replace(/0+$/, '');
  const dot = t.indexOf('.');
  return dot < 0 ? 0 : t.length - dot - 1;
}

export async function symbolSteps(baseUrl: string, symbol: string): Promise<SymbolSteps> {
  const info = await publicGet<{ symbols: { symbol: string; filters: { filterType: string; tickSize?: string; stepSize?: string }[] }[] }>(baseUrl, '/fapi/v1/exchangeInfo');
  const s = info.symbols.find((x) => x.symbol === symbol);
  if (s === undefined) throw new Error(`symbol ${symbol} is not listed by the server`);
  const tickText = s.filters.find((f) => f.filterType === 'PRICE_FILTER')?.tickSize ?? '';
  const stepText = s.filters.find((f) => f.filterType === 'LOT_SIZE')?.stepSize ?? '';
  if (tickText === '' || stepText === '') throw new Error(`${symbol}: exchangeInfo has no tick/step size`);
  return { symbol, tick: Number(tickText), step: Number(stepText), priceDecimals: decimalsOf(tickText), qtyDecimals: decimalsOf(stepText) };
}

export function ticksOf(s: SymbolSteps, priceText: string): number {
  return Math.round(Number(priceText) / s.tick);
}

export function priceText(s: SymbolSteps, ticks: number): string {
  return (ticks * s.tick).toFixed(s.priceDecimals);
}

export function lotsOf(s: SymbolSteps, qtyText: string): number {
  return Math.round(Number(qtyText) / s.step);
}

export function qtyText(s: SymbolSteps, lots: number): string {
  return (lots * s.step).toFixed(s.qtyDecimals);
}
