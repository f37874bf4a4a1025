// The part of autocannon@9.0.0's programmatic API the harness uses (the package ships no types;
// @types/autocannon describes 7.x).
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    workers?: number;
    /** Per-request timeout in seconds. */
    timeout?: number;
    /** Request sequence; setupRequest/onResponse receive a per-connection context object. */
    requests?: {
      setupRequest?: (req: Record<string, unknown>, context: any) => Record<string, unknown>;
      onResponse?: (status: number, body: string, context: any) => void;
    }[];
    setupClient?: (client: any) => void;
  }
  interface Stats {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    total: number;
    max: number;
  }
  interface AutocannonResult {
    duration: number;
    requests: Stats;
    latency: Stats & { p99_9?: number; p90: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  }
  function autocannon(opts: AutocannonOptions): Promise<AutocannonResult>;
  export default autocannon;
}
