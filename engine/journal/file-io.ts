// The one interface through which the durability layer touches files. Journal, snapshots and
// recovery take a FileIO; tests pass SimDisk (in-memory, crashable) or FaultyFileIO (a wrapper
// injecting EIO/ENOSPC/short writes/latency), production passes createNodeFileIO().
//
// Async on purpose: with the default node implementation write/fsync run on libuv's thread
// pool, so the engine keeps sequencing and applying the next batch while the previous batch's
// fsync is in flight (apply-before-fsync; acks wait for the fsync).

import fs from 'node:fs';
import path from 'node:path';

export interface FileStat {
  readonly sizeBytes: number;
}

/** 'append': create if missing, every write goes to the end. 'truncate': create or empty, sequential writes. */
export type OpenMode = 'append' | 'truncate';

export interface FileIO {
  mkdirp(dir: string): Promise<void>;
  /** Names (not paths) of the entries in dir; [] if dir does not exist. Order unspecified. */
  list(dir: string): Promise<string[]>;
  /** null when the file does not exist. */
  stat(filePath: string): Promise<FileStat | null>;
  readFile(filePath: string): Promise<Uint8Array>;
  open(filePath: string, mode: OpenMode): Promise<number>;
  /** Writes bytes[offset, offset+length). May write fewer bytes (short write): returns the count. */
  write(fd: number, bytes: Uint8Array, offsetBytes: number, lengthBytes: number): Promise<number>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  truncate(filePath: string, sizeBytes: number): Promise<void>;
  rename(fromPath: string, toPath: string): Promise<void>;
  unlink(filePath: string): Promise<void>;
  /** Makes creations, renames and unlinks in dir durable. */
  fsyncDir(dir: string): Promise<void>;
}

/**
 * Writes all of bytes[offset, offset+length), looping over short writes (POSIX allows them).
 * A write that makes no progress is an error, not a spin.
 */
export async function writeFully(
  io: FileIO,
  fd: number,
  bytes: Uint8Array,
  offsetBytes: number,
  lengthBytes: number,
): Promise<void> {
  let done = 0;
  while (done < lengthBytes) {
    const n = await io.write(fd, bytes, offsetBytes + done, lengthBytes - done);
    if (!(Number.isInteger(n) && n > 0 && n <= lengthBytes - done)) {
      throw new Error(`write made no progress (returned ${n} of ${lengthBytes - done} bytes)`);
    }
    done += n;
  }
}

/** Open the file, write everything, fsync, close. Used for small files (snapshots). */
export async function writeFileDurably(io: FileIO, filePath: string, parts: readonly Uint8Array[]): Promise<void> {
  const fd = await io.open(filePath, 'truncate');
  try {
    for (const part of parts) await writeFully(io, fd, part, 0, part.length);
    await io.fsync(fd);
  } finally {
    await io.close(fd);
  }
}

export interface NodeFileIOOptions {
  /**
   * true: synchronous fs calls on the calling thread, wrapped in settled promises (no thread-pool
   * hop, ~25 µs cheaper per call here, but the event loop stalls during fsync). Use it on a
   * dedicated thread or in tools. Default false: libuv thread pool.
   */
  readonly blocking?: boolean;
}

function isMissing(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function createNodeFileIO(options: NodeFileIOOptions = {}): FileIO {
  return options.blocking === true ? blockingNodeFileIO : asyncNodeFileIO;
}

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

const OPEN_FLAGS: Record<OpenMode, string> = { append: 'a', truncate: 'w' };

const blockingNodeFileIO: FileIO = {
  mkdirp: (dir) => settle(() => void fs.mkdirSync(dir, { recursive: true })),
  list: (dir) =>
    settle(() => {
      try {
        return fs.readdirSync(dir);
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
    }),
  stat: (filePath) =>
    settle(() => {
      try {
        return { sizeBytes: fs.statSync(filePath).size };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    }),
  readFile: (filePath) => settle(() => fs.readFileSync(filePath)),
  open: (filePath, mode) => settle(() => fs.openSync(filePath, OPEN_FLAGS[mode])),
  write: (fd, bytes, offsetBytes, lengthBytes) =>
    settle(() => fs.writeSync(fd, toBuffer(bytes), offsetBytes, lengthBytes)),
  fsync: (fd) => settle(() => fs.fsyncSync(fd)),
  close: (fd) => settle(() => fs.closeSync(fd)),
  truncate: (filePath, sizeBytes) => settle(() => fs.truncateSync(filePath, sizeBytes)),
  rename: (fromPath, toPath) => settle(() => fs.renameSync(fromPath, toPath)),
  unlink: (filePath) => settle(() => fs.unlinkSync(filePath)),
  fsyncDir: (dir) =>
    settle(() => {
      const fd = fs.openSync(dir, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }),
};

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    run((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

const asyncNodeFileIO: FileIO = {
  mkdirp: (dir) => cb<void>((done) => fs.mkdir(dir, { recursive: true }, (err) => done(err))),
  list: (dir) =>
    cb<string[]>((done) =>
      fs.readdir(dir, (err, names) => (err && isMissing(err) ? done(null, []) : done(err, names))),
    ),
  stat: (filePath) =>
    cb<FileStat | null>((done) =>
      fs.stat(filePath, (err, st) =>
        err ? (isMissing(err) ? done(null, null) : done(err)) : done(null, { sizeBytes: st.size }),
      ),
    ),
  readFile: (filePath) => cb<Uint8Array>((done) => fs.readFile(filePath, done)),
  open: (filePath, mode) => cb<number>((done) => fs.open(filePath, OPEN_FLAGS[mode], done)),
  write: (fd, bytes, offsetBytes, lengthBytes) =>
    cb<number>((done) => fs.write(fd, toBuffer(bytes), offsetBytes, lengthBytes, null, (err, n) => done(err, n))),
  fsync: (fd) => cb<void>((done) => fs.fsync(fd, (err) => done(err))),
  close: (fd) => cb<void>((done) => fs.close(fd, (err) => done(err))),
  truncate: (filePath, sizeBytes) => cb<void>((done) => fs.truncate(filePath, sizeBytes, (err) => done(err))),
  rename: (fromPath, toPath) => cb<void>((done) => fs.rename(fromPath, toPath, (err) => done(err))),
  unlink: (filePath) => cb<void>((done) => fs.unlink(filePath, (err) => done(err))),
  fsyncDir: async (dir) => {
    const fd = await cb<number>((done) => fs.open(dir, 'r', done));
    try {
      await cb<void>((done) => fs.fsync(fd, (err) => done(err)));
    } finally {
      await cb<void>((done) => fs.close(fd, (err) => done(err)));
    }
  },
};

/** path.join re-exported so callers of FileIO need no second import for paths. */
export const joinPath = path.join;
