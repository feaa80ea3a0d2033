import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { createTestApp, TestApp } from '../support/test-app';

const PROBLEM_JSON = /^application\/problem\+json/;

/** What the HTTP layer refuses before a route runs is still problem+json naming the reason. */
describe('HTTP edges before the routes', () => {
  let a: TestApp;
  let port: number;
  beforeAll(async () => {
    a = await createTestApp();
    await a.app.listen(0, '127.0.0.1');
    port = (a.app.getHttpServer().address() as { port: number }).port;
  });
  afterAll(() => a.close());

  /** A POST /organisations as sent, bytes untouched (supertest would serialise a Buffer as JSON). */
  const post = async (type: string, body: string | Buffer | Readable, headers: Record<string, string> = {}) => {
    const res = await request(`http://127.0.0.1:${port}/organisations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.keys.curator}`, 'content-type': type, ...headers },
      body,
    });
    const text = await res.body.text();
    const contentType = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, contentType, body: /json/.test(contentType) ? JSON.parse(text) : text };
  };

  it('a path that does not percent-decode is 400 naming the path', async () => {
    for (const url of ['/alliances/%ZZ', '/alliances/%E0%A4%A/members', '/nothing/%ZZ']) {
      const res = await a.as('reader').get(url);
      expect({ url, status: res.status, type: res.headers['content-type'] }).toEqual({ url, status: 400, type: expect.stringMatching(PROBLEM_JSON) });
      expect(res.body.errors).toEqual([{ field: 'path', message: 'not a valid percent-encoded URL path' }]);
    }
  });

  it('a long path parameter is refused by its own rule, an absurd one with 414', async () => {
    const long = await a.as('reader').get(`/alliances/${'a'.repeat(101)}`);
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([expect.objectContaining({ field: 'id' })]);
    const absurd = await a.as('reader').get(`/alliances/${'a'.repeat(3000)}`);
    expect(absurd.status).toBe(414);
    expect(absurd.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('gzip and deflate bodies are inflated; other codings are 415, corrupt ones 400, and the limit counts inflated bytes', async () => {
    const body = JSON.stringify({ id: 'gzipped', name: 'Gzipped' });
    expect((await post('application/json', gzipSync(body), { 'Content-Encoding': 'gzip' })).status).toBe(201);
    expect((await a.as('reader').get('/organisations/gzipped').expect(200)).body.name).toBe('Gzipped');
    expect((await post('application/json', deflateSync(JSON.stringify({ id: 'deflated', name: 'D' })), { 'Content-Encoding': 'deflate' })).status).toBe(201);
    const br = await post('application/json', JSON.stringify({ id: 'brotli', name: 'B' }), { 'Content-Encoding': 'br' });
    expect(br.status).toBe(415);
    expect(br.body.detail).toContain('Content-Encoding br');
    const corrupt = await post('application/json', Buffer.from('not gzip at all'), { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.contentType).toMatch(PROBLEM_JSON);
    expect(corrupt.body.detail).toContain('not valid gzip data');
    // 2 MiB of JSON that gzips to a few KiB.
    const bomb = gzipSync(JSON.stringify({ id: 'bomb', name: ' '.repeat(2 * 1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const refused = await post('application/json', bomb, { 'Content-Encoding': 'gzip' });
    expect(refused.status).toBe(413);
    expect(refused.contentType).toMatch(PROBLEM_JSON);
    await a.as('reader').get('/organisations/bomb').expect(404);
    // An empty encoded body is no body (the route's rules answer); a GET's coding is not looked at.
    const empty = await post('application/json', '', { 'Content-Encoding': 'gzip' });
    expect(empty.status).toBe(400);
    expect(empty.body.type).toMatch(/validation-error/);
    expect(empty.body.detail).not.toContain('gzip');
    await a.as('reader').get('/organisations/gzipped').set('Content-Encoding', 'br').expect(200);
  });

  it('a chunked deflate stream that inflates to nothing is cut off at 1 MiB of encoded bytes', async () => {
    // A zlib header, then empty stored blocks (5 bytes each, no output), sent without a length.
    const block = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
    const chunk = Buffer.concat(Array.from({ length: 13_108 }, () => block)); // ~64 KiB
    async function* stream() {
      yield Buffer.from([0x78, 0x01]);
      for (let i = 0; i < 40; i++) {
        yield chunk;
      }
    }
    const res = await post('application/json', Readable.from(stream()), { 'Content-Encoding': 'deflate' });
    expect(res.status).toBe(413);
    expect(res.contentType).toMatch(PROBLEM_JSON);
  });

  it('only UTF-8 JSON is read: another charset is 415 and records nothing', async () => {
    const latin1 = Buffer.from('{"id":"latin","name":"Caf\xe9"}', 'latin1');
    const res = await post('application/json; charset=iso-8859-1', latin1);
    expect(res.status).toBe(415);
    expect(res.body.detail).toContain('iso-8859-1');
    await a.as('reader').get('/organisations/latin').expect(404);
    // Undeclared, the bytes must still be UTF-8: Latin-1 is not silently turned into U+FFFD.
    const undeclared = await post('application/json', latin1);
    expect(undeclared.status).toBe(400);
    expect(undeclared.body.errors).toEqual([{ field: 'body', message: 'not valid UTF-8' }]);
    await a.as('reader').get('/organisations/latin').expect(404);
    expect((await post('application/json; charset="UTF-8"', JSON.stringify({ id: 'utf8', name: 'Café' }))).status).toBe(201);
    expect((await a.as('reader').get('/organisations/utf8').expect(200)).body.name).toBe('Café');
  });

  it('a JSON body must be an object or array; an empty body of any type is no body', async () => {
    for (const json of ['null', '"x"', '12']) {
      const res = await post('application/json', json);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'body', message: 'must be a JSON object or array' }]);
    }
    // fetch(url, { method: 'POST', body: '' }) sends text/plain with no bytes: the route's own rules answer.
    const empty = await post('text/plain;charset=UTF-8', '');
    expect(empty.status).toBe(400);
    expect(empty.body.type).toMatch(/validation-error/);
  });

  it('an unreadable Content-Type is 415 naming it', async () => {
    const res = await post(';;;', '{}');
    expect(res.status).toBe(415);
    expect(res.contentType).toMatch(PROBLEM_JSON);
    expect(res.body.detail).toContain(';;;');
  });

  it('GETs carry a weak ETag; If-None-Match with it is 304 until the answer changes', async () => {
    await a.as('curator').post('/organisations').send({ id: 'tagged', name: 'Tagged' }).expect(201);
    const first = await a.as('reader').get('/organisations/tagged').expect(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^W\/".+"$/);
    const unchanged = await a.as('reader').get('/organisations/tagged').set('If-None-Match', etag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.text ?? '').toBe('');
    // Weak comparison, and a list of tags.
    expect((await a.as('reader').get('/organisations/tagged').set('If-None-Match', `"x", ${etag.slice(2)}`)).status).toBe(304);
    // Writes and refusals are never replaced by a 304, whatever If-None-Match says.
    await a.as('curator').post('/organisations').set('If-None-Match', '*').send({ id: 'tagged-2', name: 'T' }).expect(201);
    await a.as('reader').get('/organisations/none').set('If-None-Match', '*').expect(404);
    await a.as('curator').patch('/organisations/tagged').send({ country: 'DE' }).expect(201);
    const changed = await a.as('reader').get('/organisations/tagged').set('If-None-Match', etag).expect(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.body.country).toBe('DE');
  });

  const rawExchange = (head: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(head));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve(text) : reject(error)));
    });
  const problemOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

  it('a request that is not valid HTTP gets a problem+json 400 before the connection closes', async () => {
    const answer = await rawExchange('GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Content-Type: application/problem+json');
    expect(problemOf(answer)).toMatchObject({ status: 400, title: 'Invalid request', detail: 'the request is not valid HTTP' });
  });

  it('headers past Node\'s limit get a problem+json 431', async () => {
    const answer = await rawExchange(`GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(problemOf(answer)).toMatchObject({ status: 431, title: 'Request header fields too large', type: expect.stringContaining('headers-too-large') });
  });
});
