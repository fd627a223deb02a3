import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttp2Server, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { HttpRequest, HttpResponse } from './exchange';

// Every HTTP/2 connection with prior knowledge opens with this line; no HTTP/1.x request line can.
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/**
 * One port for HTTP/1.1 and plain-text HTTP/2 ("h2c" with prior knowledge, what the AWS SDK's
 * default `NodeHttp2Handler` speaks on `http://`). Node's HTTP/2 server accepts HTTP/1.1 only
 * over TLS, so each new connection's first bytes are sniffed and the socket is handed to an
 * HTTP/1.1 or an HTTP/2 server, neither of which listens itself.
 */
export class DualProtocolListener {
  readonly #front: Server;
  readonly #sockets = new Set<Socket>();
  readonly #sessions = new Set<Http2Session>();

  constructor(handle: (request: HttpRequest, response: HttpResponse) => void) {
    const http1 = createHttpServer({ keepAliveTimeout: 5_000 }, handle);
    const http2 = createHttp2Server(handle);
    http2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
    // A malformed HTTP/2 client is its own problem; the server keeps serving others.
    http2.on('sessionError', () => undefined);
    this.#front = createNetServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      sniff(socket, (isHttp2) => {
        if (isHttp2) {
          // Left paused: the HTTP/2 session reads the bytes put back before reading the socket.
          http2.emit('connection', socket);
        } else {
          http1.emit('connection', socket);
          socket.resume();
        }
      });
    });
  }

  /** Listens on `port` (0: any free one) and resolves to the port bound. */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#front.once('error', reject);
      this.#front.listen(port, host, () => {
        this.#front.off('error', reject);
        const address = this.#front.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening and drops every connection, HTTP/2 sessions included. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#front.close(() => resolve());
      for (const session of this.#sessions) session.destroy();
      for (const socket of this.#sockets) socket.destroy();
    });
  }
}

/** Reads until the first bytes tell HTTP/2 from HTTP/1.x, then puts them back unread. */
function sniff(socket: Socket, decided: (isHttp2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const length = Math.min(seen.length, HTTP2_PREFACE.length);
    const matches = seen.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length));
    if (matches && seen.length < HTTP2_PREFACE.length) return;
    socket.off('data', onData);
    socket.pause();
    socket.unshift(seen);
    decided(matches);
  };
  socket.on('data', onData);
}
