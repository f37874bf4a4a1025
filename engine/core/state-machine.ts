// The contract the journal, recovery and the simulator rely on. The exchange core's
// Engine implements it; tests may use a tiny stand-in with the same semantics.
export interface StateMachine<C> {
  /** Apply one command deterministically. Never throws for bad input (returns a rejection). */
  apply(command: C): unknown;
  /**
   * Optional: apply without building a result (replay needs only the state). Must leave
   * exactly the state apply() would.
   */
  replay?(command: C): void;
  /** Canonical bytes of the whole state; restore(snapshot()) reproduces stateHash() exactly. */
  snapshot(): Uint8Array;
  restore(bytes: Uint8Array): void;
  /** Hex digest of the canonical state. Same command log → same hash. */
  stateHash(): string;
}
