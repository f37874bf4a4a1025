// SimDisk crash semantics: only fsynced bytes and fsynced directory entries are guaranteed.
import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.ts';
import { SimDisk } from './sim-disk.ts';

const D = '/d';
const bytes = (s: string) => Buffer.from(s);

describe('SimDisk', () => {
  it('a crash keeps synced bytes and loses unsynced ones (when told to)', async () => {
    const disk = new SimDisk();
    await disk.mkdirp(D);
    const fd = await disk.open(`${D}/a`, 'append');
    await disk.fsyncDir(D);
    await disk.write(fd, bytes('durable'), 0, 7);
    await disk.fsync(fd);
    await disk.write(fd, bytes('-volatile'), 0, 9);
    expect(Buffer.from(await disk.readFile(`${D}/a`)).toString()).toBe('durable-volatile');
    const after = disk.crash(seededRandom(1), { keepUnsyncedProbability: 0 });
    expect(Buffer.from(await after.readFile(`${D}/a`)).toString()).toBe('durable');
    await expect(disk.readFile(`${D}/a`)).rejects.toMatchObject({ code: 'ECRASHED' });
  });

  it('a file whose directory entry was never fsynced disappears; a rename needs fsyncDir', async () => {
    const disk = new SimDisk();
    await disk.mkdirp(D);
    const fd = await disk.open(`${D}/tmp`, 'truncate');
    await disk.write(fd, bytes('x'), 0, 1);
    await disk.fsync(fd);
    await disk.close(fd);
    expect(await disk.clone().crash(seededRandom(2)).list(D)).toEqual([]);
    await disk.fsyncDir(D);
    await disk.rename(`${D}/tmp`, `${D}/final`);
    expect(await disk.clone().crash(seededRandom(2)).list(D)).toEqual(['tmp']);
    await disk.fsyncDir(D);
    expect(await disk.crash(seededRandom(2)).list(D)).toEqual(['final']);
  });

  it('torn tails keep a prefix of the unsynced bytes, sometimes followed by garbage', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const disk = new SimDisk();
      await disk.mkdirp(D);
      const fd = await disk.open(`${D}/a`, 'append');
      await disk.fsyncDir(D);
      await disk.write(fd, bytes('0123456789'), 0, 10);
      const got = Buffer.from(await disk.crash(seededRandom(seed), { keepUnsyncedProbability: 1, garbageProbability: 0.5 }).readFile(`${D}/a`));
      const keptPrefix = got.toString().startsWith('0123456789'.slice(0, Math.min(got.length, 10)));
      seen.add(keptPrefix ? 'prefix' : 'garbage');
      expect(got.length).toBeLessThanOrEqual(10 + 10);
    }
    expect(seen.has('prefix')).toBe(true);
    expect(seen.has('garbage')).toBe(true);
  });

  it('an unsynced truncate of synced bytes is undone by a crash', async () => {
    const disk = new SimDisk();
    await disk.mkdirp(D);
    const fd = await disk.open(`${D}/a`, 'append');
    await disk.fsyncDir(D);
    await disk.write(fd, bytes('abcdef'), 0, 6);
    await disk.fsync(fd);
    await disk.truncate(`${D}/a`, 2);
    expect(Buffer.from(await disk.readFile(`${D}/a`)).toString()).toBe('ab');
    const after = disk.crash(seededRandom(3));
    expect(Buffer.from(await after.readFile(`${D}/a`)).toString()).toBe('abcdef');
  });
});
