// A bare node:http target for benchmarks: answers every request with 200 and a 2-byte JSON
// body as soon as its body has been read. Run as its own process (bench-harness.ts spawns it)
// so that its CPU use is the target's, not the load generator's; prints "listening <port>".

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = '{}';
const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
