// A TypeScript scenario: a daily-cycle-like sine between 200 and 1,800 req/s.
import type { Scenario } from '../scenario.ts';

export default {
  name: 'ping-sine',
  profile: { kind: 'sine', mean: 1000, amplitude: 800, period: '30s', duration: '60s' },
  request: { factory: 'static', method: 'GET', path: '/fapi/v1/ping', op: 'ping' },
  thresholds: ['p99 < 50ms', 'error_rate < 0.1%'],
} satisfies Scenario;
