import type { HttpRequest } from './exchange';

/** The request body as text; rejects when the client goes away or the body exceeds `limitBytes`. */
export function readBody(request: HttpRequest, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new BodyTooLargeError(limitBytes));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    request.once('error', reject);
    request.once('close', () => {
      if (!request.complete) reject(new Error('client closed the connection while sending the body'));
    });
  });
}

export class BodyTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body exceeds ${limitBytes} bytes`);
  }
}
