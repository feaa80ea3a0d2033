import { Pool } from 'undici';
import type { TestApp } from '../../support/test-app';

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  contentType: string;
}

export interface Api {
  get(path: string): Promise<Reply>;
  post(path: string, body: object): Promise<Reply>;
  close(): Promise<void>;
}

/**
 * The test app on a real port with a keep-alive pool: hundreds of histories make tens of
 * thousands of requests, and supertest would open a server and a socket for each.
 */
export async function listen(a: TestApp, connections = 16): Promise<Api> {
  await a.app.listen(0, '127.0.0.1');
  const address = a.app.getHttpServer().address() as { port: number };
  const pool = new Pool(`http://127.0.0.1:${address.port}`, { connections, pipelining: 1 });
  const call = async (method: 'GET' | 'POST', path: string, role: 'reader' | 'curator', body?: object): Promise<Reply> => {
    const res = await pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${a.keys[role]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    const contentType = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, text, contentType, body: /json/.test(contentType) ? JSON.parse(text) : undefined };
  };
  return {
    get: (path) => call('GET', path, 'reader'),
    post: (path, body) => call('POST', path, 'curator', body),
    close: () => pool.close(),
  };
}
