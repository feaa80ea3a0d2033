import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { request as undiciRequest } from 'undici';
import { LINGER_MS } from '../../apps/api/src/common/json-body';
import { createTestApp, TestApp } from '../support/test-app';

const MiB = 1024 * 1024;
const PROBLEM_JSON = /^application\/problem\+json/;

/**
 * A body past 1 MiB is refused with 413 problem+json that every ordinary Node client reads,
 * whether it sent a Content-Length or chunks, a little too much or far too much: the API reads
 * (and throws away) the rest of the body rather than closing the socket under a client that is
 * still writing, and closes the connection once it has answered.
 */
describe('request bodies over 1 MiB', () => {
  let a: TestApp;
  let port: number;
  beforeAll(async () => {
    a = await createTestApp();
    await a.app.listen(0, '127.0.0.1');
    port = (a.app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => a.close());

  const json = (bytes: number) => JSON.stringify({ id: 'big', name: 'x'.repeat(bytes) });
  const expectTooLarge = (status: number, contentType: string | undefined, body: string) => {
    expect(status).toBe(413);
    expect(contentType).toMatch(PROBLEM_JSON);
    expect(JSON.parse(body)).toMatchObject({ status: 413, detail: 'request body is larger than 1 MiB' });
  };

  it.each([
    ['just over', MiB + 10],
    ['4 MiB', 4 * MiB],
    ['16 MiB', 16 * MiB],
  ])('supertest, %s with Content-Length', async (_label, bytes) => {
    const res = await a.as('curator').post('/organisations').set('Content-Type', 'application/json').send(json(bytes));
    expectTooLarge(res.status, res.headers['content-type'], res.text);
    expect(res.headers.connection).toBe('close');
  });

  it.each([
    ['Content-Length', false],
    ['chunked', true],
  ])('undici, 8 MiB with %s', async (_label, chunked) => {
    const text = json(8 * MiB);
    const res = await undiciRequest(`http://127.0.0.1:${port}/organisations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.keys.curator}`, 'content-type': 'application/json' },
      body: chunked ? Readable.from([text.slice(0, 3 * MiB), text.slice(3 * MiB)]) : text,
    });
    expectTooLarge(res.statusCode, String(res.headers['content-type']), await res.body.text());
  });

  it('global fetch, 8 MiB', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/organisations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.keys.curator}`, 'content-type': 'application/json' },
      body: json(8 * MiB),
    });
    expectTooLarge(res.status, res.headers.get('content-type') ?? undefined, await res.text());
  });

  it('node:http, 8 MiB written in 64 KiB pieces', async () => {
    const text = Buffer.from(json(8 * MiB));
    const res = await new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/organisations',
          headers: { authorization: `Bearer ${a.keys.curator}`, 'content-type': 'application/json', 'content-length': text.length },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (c: string) => (body += c));
          response.on('end', () => resolve({ status: response.statusCode!, type: response.headers['content-type'], body }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < text.length; i += 64 * 1024) {
        req.write(text.subarray(i, i + 64 * 1024));
      }
      req.end();
    });
    expectTooLarge(res.status, res.type, res.body);
  });

  it('an unauthenticated or unrouted oversized body is answered too (401, 404 or 413), never a reset', async () => {
    const text = json(4 * MiB);
    for (const [path, auth] of [
      ['/organisations', undefined],
      ['/no/such/route', `Bearer ${a.keys.curator}`],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: text,
      });
      expect([401, 404, 413]).toContain(res.status);
      expect(res.headers.get('content-type')).toMatch(PROBLEM_JSON);
      await res.text();
    }
  });

  it('the next request on another connection is served as usual', async () => {
    await a.as('curator').post('/organisations').send({ id: 'after-big', name: 'After' }).expect(201);
  });

  /**
   * A Node net client that writes the whole request in 64 KiB pieces while it reads: what it
   * received, and the socket errors it saw. Closing the socket under it while it still writes
   * resets the connection (EPIPE) and throws away the answer it had not read yet.
   */
  const rawPost = (head: string, body: Buffer, pieceDelayMs = 1) =>
    new Promise<{ text: string; errors: string[] }>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const errors: string[] = [];
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
      socket.on('close', () => resolve({ text, errors }));
      socket.write(head);
      let sent = 0;
      const next = () => {
        if (socket.destroyed) {
          return;
        }
        if (sent >= body.length) {
          socket.end();
          return;
        }
        const ok = socket.write(body.subarray(sent, sent + 64 * 1024));
        sent += 64 * 1024;
        if (ok) {
          setTimeout(next, pieceDelayMs);
        } else {
          socket.once('drain', next);
        }
      };
      next();
    });
  const head = (headers: Record<string, string | number>) =>
    `POST /organisations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${a.keys.curator}\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  const chunkedBody = (bytes: Buffer) => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n0\r\n\r\n')]);

  it.each([
    ['4 MiB of JSON with Content-Length', 413, () => ({ 'Content-Type': 'application/json', 'Content-Length': 4 * MiB }), () => Buffer.alloc(4 * MiB, 0x20)],
    ['4 MiB of JSON, chunked', 413, () => ({ 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), () => chunkedBody(Buffer.alloc(4 * MiB, 0x20))],
    [
      '3 MiB of gzip that does not compress',
      413,
      () => ({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': GZIP_NOISE.length }),
      () => GZIP_NOISE,
    ],
    ['4 MiB of text/plain', 415, () => ({ 'Content-Type': 'text/plain', 'Content-Length': 4 * MiB }), () => Buffer.alloc(4 * MiB, 0x61)],
    ['4 MiB in a coding the API does not read', 415, () => ({ 'Content-Type': 'application/json', 'Content-Encoding': 'br', 'Content-Length': 4 * MiB }), () => Buffer.alloc(4 * MiB, 0x20)],
  ])('a Node net client still sending %s reads the %i before the connection closes', async (_label, status, headers, body) => {
    const res = await rawPost(head(headers()), body());
    expect(res.errors).toEqual([]);
    expect(res.text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(res.text).toMatch(/\r\nconnection: close\r\n/i);
    expect(res.text).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status });
  });

  it('a client that declares a huge Content-Length and stops sending is answered at once and let go within seconds', async () => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      // Half-open: the API's FIN does not close this side. It keeps trickling bytes of the
      // body, so it learns (from a reset) when the API has let go of the connection.
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => {
        socket.write(`${head({ 'Content-Type': 'application/json', 'Content-Length': 100 * 1024 * MiB })}{"id":`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (text += c));
      const trickle = setInterval(() => socket.write(' '), 250);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(trickle);
        resolve(text);
      });
      setTimeout(() => {
        socket.destroy();
        reject(new Error(`still open after 15 s; received ${text.slice(0, 100)}`));
      }, 15_000);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
    expect(Date.now() - started).toBeLessThan(LINGER_MS + 3_000);
  });
});

const GZIP_NOISE = gzipSync(randomBytes(3 * MiB));
