// Funded trading accounts for a load run against a perpx server, created through the admin
// API: set the index price (orders are rejected until a symbol has one), then create
// `count` accounts with `deposit` USDT each. Used by `perpx run` and the chaos experiments.

import { adminPost } from './embedded-server.ts';

export interface FundedAccount {
  apiKey: string;
  secretKey: string;
  /** The engine's account id (what the journal records). */
  accountId: number;
}

export const DEFAULT_ACCOUNTS = 24;
export const DEFAULT_DEPOSIT = '1000000';
export const DEFAULT_MID_PRICE = 50_000;

export interface FundAccountsOptions {
  count?: number;
  deposit?: string;
  symbol?: string;
  indexPrice?: number;
}

export async function createFundedAccounts(url: string, adminToken: string, o: FundAccountsOptions = {}): Promise<FundedAccount[]> {
  await adminPost(url, adminToken, 'indexPrice', { symbol: o.symbol ?? 'BTCUSDT', price: String(o.indexPrice ?? DEFAULT_MID_PRICE) });
  const accounts: FundedAccount[] = [];
  for (let i = 0; i < (o.count ?? DEFAULT_ACCOUNTS); i++) {
    const a = await adminPost(url, adminToken, 'account', { deposit: o.deposit ?? DEFAULT_DEPOSIT });
    accounts.push({ apiKey: String(a.apiKey), secretKey: String(a.secretKey), accountId: Number(a.accountId) });
  }
  return accounts;
}
