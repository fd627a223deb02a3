/**
 * Test support, not part of the package: a loopback reverse proxy that serves the mock provider
 * under a path prefix (`/ollama/v1/...` forwarded as `/v1/...`), as a self-hosted server behind
 * a gateway is reached. Bodies and streamed replies pass through untouched.
 */
import { createServer, request as forward, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PathPrefixProxy {
  /** `http://127.0.0.1:PORT`: append the prefix and `/v1` for a client's base URL. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that strips `prefix` (e.g. `/ollama`) and forwards to `target`. */
export async function startPathPrefixProxy(target: string, prefix: string): Promise<PathPrefixProxy> {
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    const stripped = path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : path;
    const proxied = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: stripped,
        headers: { ...incoming.headers, host: upstream.host },
      },
      (reply) => {
        outgoing.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(outgoing);
      },
    );
    proxied.on('error', () => outgoing.destroy());
    incoming.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
