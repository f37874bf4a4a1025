// In-memory disk for deterministic simulation. Every file keeps its current bytes and the
// bytes an fsync made durable; every directory keeps its current entries and the entries an
// fsyncDir made durable. crash() builds the disk a reboot would see: durable entries only,
// durable bytes plus (at random) a torn prefix of the unsynced appended bytes, optionally with
// garbage or zeros after it (a partially written sector / an extended but unwritten block).
// Conservative on purpose: whatever was not fsynced may be lost, so code that forgets an fsync
// (of a file or of its directory) loses data here.

import path from 'node:path';
import type { FileIO, FileStat, OpenMode } from './file-io.ts';
import type { Random } from './random.ts';

/** Upper bound on garbage appended at a torn tail: about one 512-byte sector, never more. */
const TORN_GARBAGE_BYTES_MAX = 512;

class Inode {
  buf: Uint8Array = new Uint8Array(256);
  lenBytes = 0;
  /** Durable content is buf[0, syncedLenBytes) while syncedCopy is null. */
  syncedLenBytes = 0;
  /** Set when an unsynced truncate/overwrite destroyed part of the durable prefix in buf. */
  syncedCopy: Uint8Array | null = null;

  current(): Uint8Array {
    return this.buf.slice(0, this.lenBytes);
  }
  durable(): Uint8Array {
    return this.syncedCopy !== null ? this.syncedCopy.slice() : this.buf.slice(0, this.syncedLenBytes);
  }
  append(bytes: Uint8Array, offsetBytes: number, lengthBytes: number): void {
    const need = this.lenBytes + lengthBytes;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.lenBytes));
      this.buf = grown;
    }
    this.buf.set(bytes.subarray(offsetBytes, offsetBytes + lengthBytes), this.lenBytes);
    this.lenBytes = need;
  }
  truncate(sizeBytes: number): void {
    if (sizeBytes < this.syncedLenBytes && this.syncedCopy === null) {
      this.syncedCopy = this.buf.slice(0, this.syncedLenBytes);
    }
    if (sizeBytes > this.lenBytes) {
      this.append(new Uint8Array(sizeBytes - this.lenBytes), 0, sizeBytes - this.lenBytes);
    } else {
      this.buf.fill(0, sizeBytes, this.lenBytes);
      this.lenBytes = sizeBytes;
    }
  }
  sync(): void {
    this.syncedCopy = null;
    this.syncedLenBytes = this.lenBytes;
  }
  /** Unsynced bytes that a crash may or may not keep: only an append-only suffix qualifies. */
  unsyncedSuffix(): Uint8Array {
    if (this.syncedCopy !== null) return new Uint8Array(0);
    return this.buf.slice(this.syncedLenBytes, this.lenBytes);
  }
}

interface Dir {
  current: Map<string, Inode>;
  durable: Map<string, Inode>;
}

interface OpenFile {
  inode: Inode;
  filePath: string;
}

export interface CrashOptions {
  /** Probability that a file keeps a random prefix of its unsynced appended bytes (else none). Default 0.5. */
  readonly keepUnsyncedProbability?: number;
  /** Probability that a torn tail is followed by random garbage or zeros. Default 0.3. */
  readonly garbageProbability?: number;
  /** Probability that an unsynced directory change (create/rename/unlink) survives anyway. Default 0. */
  readonly keepUnsyncedDirProbability?: number;
}

function errno(code: string, syscall: string, filePath: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${syscall} '${filePath}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = filePath;
  return err;
}

export class SimDisk implements FileIO {
  private readonly dirs = new Map<string, Dir>();
  private readonly fds = new Map<number, OpenFile>();
  private nextFd = 3;
  /** Set by crash(): this instance is the pre-crash machine, every later call fails. */
  dead = false;
  writeCalls = 0;
  fsyncCalls = 0;

  private check(syscall: string, filePath: string): void {
    if (this.dead) throw errno('ECRASHED', syscall, filePath);
  }
  private dirOf(filePath: string, create: boolean): Dir {
    const dirPath = path.dirname(filePath);
    let dir = this.dirs.get(dirPath);
    if (dir === undefined) {
      if (!create) throw errno('ENOENT', 'open', filePath);
      dir = { current: new Map(), durable: new Map() };
      this.dirs.set(dirPath, dir);
    }
    return dir;
  }
  private inodeOf(filePath: string, syscall: string): Inode {
    const inode = this.dirs.get(path.dirname(filePath))?.current.get(path.basename(filePath));
    if (inode === undefined) throw errno('ENOENT', syscall, filePath);
    return inode;
  }

  async mkdirp(dir: string): Promise<void> {
    this.check('mkdir', dir);
    // Directory creation is treated as durable: the layer under test does not create dirs
    // on the hot path, and modelling parent-directory fsyncs adds nothing here.
    if (!this.dirs.has(dir)) this.dirs.set(dir, { current: new Map(), durable: new Map() });
  }
  async list(dir: string): Promise<string[]> {
    this.check('readdir', dir);
    return [...(this.dirs.get(dir)?.current.keys() ?? [])];
  }
  async stat(filePath: string): Promise<FileStat | null> {
    this.check('stat', filePath);
    const inode = this.dirs.get(path.dirname(filePath))?.current.get(path.basename(filePath));
    return inode === undefined ? null : { sizeBytes: inode.lenBytes };
  }
  async readFile(filePath: string): Promise<Uint8Array> {
    this.check('read', filePath);
    return this.inodeOf(filePath, 'read').current();
  }
  async open(filePath: string, mode: OpenMode): Promise<number> {
    this.check('open', filePath);
    const dir = this.dirOf(filePath, false);
    const name = path.basename(filePath);
    let inode = dir.current.get(name);
    if (inode === undefined) {
      inode = new Inode();
      dir.current.set(name, inode);
    } else if (mode === 'truncate') {
      inode.truncate(0);
    }
    const fd = this.nextFd++;
    this.fds.set(fd, { inode, filePath });
    return fd;
  }
  private file(fd: number, syscall: string): OpenFile {
    const f = this.fds.get(fd);
    if (f === undefined) throw errno('EBADF', syscall, `fd ${fd}`);
    return f;
  }
  async write(fd: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number): Promise<number> {
    this.check('write', `fd ${fd}`);
    const f = this.file(fd, 'write');
    if (!(offsetBytes >= 0 && lengthBytes >= 0 && offsetBytes + lengthBytes <= bytes.length)) {
      throw new RangeError(`write range [${offsetBytes}, +${lengthBytes}) outside ${bytes.length} bytes`);
    }
    this.writeCalls++;
    // Both modes append: 'truncate' files are written sequentially from an empty file.
    f.inode.append(bytes, offsetBytes, lengthBytes);
    return lengthBytes;
  }
  async fsync(fd: number): Promise<void> {
    this.check('fsync', `fd ${fd}`);
    this.fsyncCalls++;
    this.file(fd, 'fsync').inode.sync();
  }
  async close(fd: number): Promise<void> {
    this.check('close', `fd ${fd}`);
    this.file(fd, 'close');
    this.fds.delete(fd);
  }
  async truncate(filePath: string, sizeBytes: number): Promise<void> {
    this.check('truncate', filePath);
    this.inodeOf(filePath, 'truncate').truncate(sizeBytes);
  }
  async rename(fromPath: string, toPath: string): Promise<void> {
    this.check('rename', fromPath);
    const inode = this.inodeOf(fromPath, 'rename');
    this.dirOf(fromPath, false).current.delete(path.basename(fromPath));
    this.dirOf(toPath, false).current.set(path.basename(toPath), inode);
  }
  async unlink(filePath: string): Promise<void> {
    this.check('unlink', filePath);
    this.inodeOf(filePath, 'unlink');
    this.dirOf(filePath, false).current.delete(path.basename(filePath));
  }
  async fsyncDir(dir: string): Promise<void> {
    this.check('fsync', dir);
    const d = this.dirs.get(dir);
    if (d === undefined) throw errno('ENOENT', 'fsync', dir);
    d.durable = new Map(d.current);
  }

  /** Exact copy of the current (not crashed) state, for branching one history into many cuts. */
  clone(): SimDisk {
    const copy = new SimDisk();
    const inodes = new Map<Inode, Inode>();
    const cloneInode = (src: Inode): Inode => {
      let dst = inodes.get(src);
      if (dst === undefined) {
        dst = new Inode();
        dst.buf = src.buf.slice();
        dst.lenBytes = src.lenBytes;
        dst.syncedLenBytes = src.syncedLenBytes;
        dst.syncedCopy = src.syncedCopy?.slice() ?? null;
        inodes.set(src, dst);
      }
      return dst;
    };
    for (const [dirPath, d] of this.dirs) {
      copy.dirs.set(dirPath, {
        current: new Map([...d.current].map(([n, i]) => [n, cloneInode(i)])),
        durable: new Map([...d.durable].map(([n, i]) => [n, cloneInode(i)])),
      });
    }
    return copy;
  }

  /**
   * The disk after a power loss. This instance dies (every call fails with ECRASHED, so code
   * still running against it cannot touch the survivor); the returned disk has everything
   * synced plus what the random choices keep of the rest. Open files are closed.
   */
  crash(random: Random, options: CrashOptions = {}): SimDisk {
    const keepP = options.keepUnsyncedProbability ?? 0.5;
    const garbageP = options.garbageProbability ?? 0.3;
    const keepDirP = options.keepUnsyncedDirProbability ?? 0;
    this.dead = true;
    const after = new SimDisk();
    for (const [dirPath, d] of this.dirs) {
      const entries = random() < keepDirP ? d.current : d.durable;
      const survivor: Dir = { current: new Map(), durable: new Map() };
      for (const [name, inode] of entries) {
        const fresh = new Inode();
        const durable = inode.durable();
        fresh.append(durable, 0, durable.length);
        const suffix = inode.unsyncedSuffix();
        if (suffix.length > 0 && random() < keepP) {
          const keepBytes = Math.floor(random() * (suffix.length + 1));
          fresh.append(suffix, 0, keepBytes);
          if (keepBytes < suffix.length && random() < garbageP) {
            const garbageBytes = 1 + Math.floor(random() * Math.min(TORN_GARBAGE_BYTES_MAX, suffix.length - keepBytes));
            const garbage = new Uint8Array(garbageBytes);
            if (random() < 0.5) for (let i = 0; i < garbageBytes; i++) garbage[i] = Math.floor(random() * 256);
            fresh.append(garbage, 0, garbageBytes);
          }
        }
        fresh.sync();
        survivor.current.set(name, fresh);
        survivor.durable.set(name, fresh);
      }
      after.dirs.set(dirPath, survivor);
    }
    return after;
  }
}
