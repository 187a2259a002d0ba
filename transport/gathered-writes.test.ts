import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectGathered, GATHERED_BYTES } from './gathered-writes.ts';

describe('connectGathered', () => {
  let server: Server | undefined;
  let client: Socket | undefined;
  afterEach(async () => {
    client?.destroy();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('sends what one turn of the event loop writes in one writev, in order, each later turn its own, and what passes GATHERED_BYTES at once', async () => {
    let received = '';
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    server = createServer((peer) => {
      peer.on('data', (chunk: Buffer) => (received += chunk.toString()));
      peer.on('end', ended);
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const socket = await new Promise<Socket>((resolve) => {
      const s = connectGathered(false)(port, '127.0.0.1', undefined, () => resolve(s));
    });
    client = socket;
    const flushes: number[] = [];
    const internal = socket as unknown as {
      _writev: (chunks: unknown[], cb: unknown) => void;
      _write: (...a: unknown[]) => void;
    };
    const writev = internal._writev.bind(socket);
    const writeOne = internal._write.bind(socket);
    internal._writev = (chunks, cb) => {
      flushes.push(chunks.length);
      writev(chunks, cb);
    };
    internal._write = (...args) => {
      flushes.push(1);
      writeOne(...args);
    };

    socket.write('frame-1;');
    socket.write('frame-2;');
    socket.write('frame-3;');
    expect(flushes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    socket.write('frame-4;');
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushes).toEqual([3, 1]);
    const half = 'x'.repeat(GATHERED_BYTES / 2);
    socket.write(half);
    socket.write(half);
    expect(flushes).toEqual([3, 1, 2]);
    socket.write('frame-5;');
    await new Promise((resolve) => setImmediate(resolve));
    socket.end();
    await done;

    expect(flushes).toEqual([3, 1, 2, 1]);
    expect(received).toBe(`frame-1;frame-2;frame-3;frame-4;${half}${half}frame-5;`);
  });
});
