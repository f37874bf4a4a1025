// API keys persisted next to the journal (`<data>/api-keys.json`), so a restarted server
// (crash, SIGTERM, chaos run) still knows the keys its accounts were given. Written
// atomically on every new key (temp file, fsync, rename, fsync the directory): keys are
// created through the admin API, never on the order path.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeyStore } from './auth.ts';
import type { ApiKeyRecord } from './auth.ts';

export const KEY_FILE_NAME = 'api-keys.json';

export class PersistentKeyStore extends KeyStore {
  private readonly file: string;
  private loading = false;

  constructor(dataDir: string, keysMax?: number) {
    super(keysMax);
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, KEY_FILE_NAME);
    if (existsSync(this.file)) {
      const rows = JSON.parse(readFileSync(this.file, 'utf8')) as { accountId: number; apiKey: string; secretKey: string }[];
      if (!Array.isArray(rows)) throw new Error(`${this.file}: expected an array of keys`);
      this.loading = true;
      try {
        for (const r of rows) super.add(r.accountId, r.apiKey, r.secretKey);
      } finally {
        this.loading = false;
      }
    }
  }

  override add(accountId: number, apiKey: string, secretKey: string): ApiKeyRecord {
    const rec = super.add(accountId, apiKey, secretKey);
    if (!this.loading) this.save();
    return rec;
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.entries()));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.file);
    const dir = openSync(dirname(this.file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  }
}
