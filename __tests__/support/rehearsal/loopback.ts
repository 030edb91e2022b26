/**
 * What every stand-in server of the rehearsal does the same way: listen on a free port of 127.0.0.1
 * (never another address), read a request's body, and stop, closing the connections still open.
 */
import type { IncomingMessage, Server } from 'http';
import type { AddressInfo } from 'net';

/** A server listening on 127.0.0.1. */
export interface Listening {
  /** `<scheme>://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Closes the server and its open connections. */
  stop(): Promise<void>;
}

/** Starts `server` (HTTP or HTTPS) on a free port of 127.0.0.1. */
export async function listenOnLoopback(server: Server, scheme: 'http' | 'https' = 'http'): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `${scheme}://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

/** The request's body as text. */
export function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
