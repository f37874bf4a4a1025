// One registry for every error the durability layer hands to callers. Codes follow the
// Binance-style numbering the gateway uses (shared/reference/binance-usdm.md): -1008 is load
// shedding, -1001 is "internal error; unable to process your request".

export interface JournalErrorSpec {
  readonly code: number;
  readonly name: string;
  /** What an operator or client should understand; the instance message adds the detail. */
  readonly summary: string;
}

export const JOURNAL_ERRORS = {
  overloaded: {
    code: -1008,
    name: 'JournalOverloaded',
    summary: 'pending queue full; command rejected before sequencing, retry later',
  },
  stopped: {
    code: -1001,
    name: 'JournalStopped',
    summary: 'journal write or fsync failed; the journal stopped (fail-stop) and accepts nothing until restart',
  },
  closed: {
    code: -1001,
    name: 'JournalClosed',
    summary: 'journal is closed',
  },
  unencodable: {
    code: -1102,
    name: 'JournalUnencodable',
    summary: 'the codec could not encode the command; rejected before sequencing',
  },
  recordTooLarge: {
    code: -1102,
    name: 'JournalRecordTooLarge',
    summary: 'encoded command exceeds recordBytesMax; rejected before sequencing',
  },
} as const satisfies Record<string, JournalErrorSpec>;

export type JournalErrorKind = keyof typeof JOURNAL_ERRORS;

export class JournalError extends Error {
  readonly code: number;
  readonly kind: JournalErrorKind;
  constructor(kind: JournalErrorKind, detail: string, options?: { cause?: unknown }) {
    const spec = JOURNAL_ERRORS[kind];
    super(`${spec.name} (${spec.code}): ${detail}`, options);
    this.name = spec.name;
    this.code = spec.code;
    this.kind = kind;
  }
}

/**
 * Recovery refuses to start. Carries the file and byte offset so an operator can look at the
 * exact spot; recovery never skips such damage silently.
 */
export class RecoveryError extends Error {
  readonly file: string;
  readonly offsetBytes: number;
  constructor(file: string, offsetBytes: number, detail: string) {
    super(`recovery stopped: ${detail} (file ${file}, offset ${offsetBytes})`);
    this.name = 'RecoveryError';
    this.file = file;
    this.offsetBytes = offsetBytes;
  }
}
