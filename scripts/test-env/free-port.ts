import { createServer } from 'node:net';

/** A loopback port nobody listens on (it was free a moment ago): a broker host that is down. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function createFreePortHost(): Promise<{ host: string; port: number }> {
  return { host: '127.0.0.1', port: await freeLoopbackPort() };
}
