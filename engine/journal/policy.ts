// Durability policies: when an acknowledgement may be released relative to fsync.

export type DurabilityPolicy =
  | { readonly kind: 'fsync' }
  | { readonly kind: 'interval'; readonly intervalMs: number }
  | { readonly kind: 'none' };

/** Longest accepted interval: beyond a minute "interval" is really "none". */
export const POLICY_INTERVAL_MS_MAX = 60_000;

export const DEFAULT_POLICY: DurabilityPolicy = { kind: 'fsync' };

/** Parses `fsync`, `none` or `interval:<ms>`; throws on anything else. */
export function parsePolicy(text: string): DurabilityPolicy {
  if (text === 'fsync') return { kind: 'fsync' };
  if (text === 'none') return { kind: 'none' };
  const m = /^interval:(\d+)$/.exec(text);
  if (m !== null) {
    const intervalMs = Number(m[1]);
    if (intervalMs >= 1 && intervalMs <= POLICY_INTERVAL_MS_MAX) return { kind: 'interval', intervalMs };
  }
  throw new Error(`unknown durability policy "${text}": use fsync, none or interval:<ms> (1..${POLICY_INTERVAL_MS_MAX})`);
}

export function policyName(policy: DurabilityPolicy): string {
  return policy.kind === 'interval' ? `interval:${policy.intervalMs}` : policy.kind;
}

/** One line for logs and benchmark reports; non-default policies say WARNING and what they risk. */
export function describePolicy(policy: DurabilityPolicy): string {
  switch (policy.kind) {
    case 'fsync':
      return 'fsync: group commit, every acknowledgement follows an fsync that covers its command (nothing acknowledged is lost on process crash, OS crash or power loss)';
    case 'interval':
      return (
        `interval:${policy.intervalMs}: WARNING: acknowledged after write(2), fsync every ${policy.intervalMs} ms; ` +
        `a process crash loses nothing acknowledged, an OS crash or power loss can lose up to ~${policy.intervalMs} ms of acknowledged commands`
      );
    case 'none':
      return (
        'none: WARNING: acknowledged after write(2), never fsynced except at segment rotation and close; ' +
        'a process crash loses nothing acknowledged, an OS crash or power loss can lose every acknowledged command the kernel had not written back'
      );
  }
}
