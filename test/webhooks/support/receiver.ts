import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Reply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Never answer (until the receiver closes). */
  hang?: boolean;
  /** Answer once this settles. */
  after?: Promise<unknown>;
}

/** Decides the answer to the n-th request (0-based) that arrived on a path. */
export type Behaviour = (request: Received, n: number) => Reply;

/** A real HTTP server on 127.0.0.1 that records every webhook request. */
export class Receiver {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private server!: Server;
  port = 0;
  /** Requests received and not answered yet. */
  open = 0;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.listen();
    return receiver;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  on(path: string, behaviour: Behaviour): this {
    this.behaviours.set(path, behaviour);
    return this;
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Distinct webhook-ids that reached a path. */
  ids(path: string): Set<string> {
    return new Set(this.at(path).map((r) => r.id));
  }

  /** Resolves when the condition holds; re-checked on every request and every 50 ms. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; received ${this.received.length} requests`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, 50);
        this.waiters.add(done);
      });
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const header = (name: string) => String(req.headers[name] ?? '');
      const received: Received = {
        path: (req.url ?? '/').split('?')[0],
        id: header('webhook-id'),
        timestamp: header('webhook-timestamp'),
        signature: header('webhook-signature'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      const n = this.counts.get(received.path) ?? 0;
      this.counts.set(received.path, n + 1);
      this.received.push(received);
      const reply: Reply = (this.behaviours.get(received.path) ?? (() => ({})))(received, n);
      for (const wake of [...this.waiters]) {
        wake();
      }
      this.open++;
      if (reply.hang) {
        return;
      }
      const send = () => {
        this.open--;
        res.writeHead(reply.status ?? 200, reply.headers ?? {}).end(reply.body ?? 'ok');
      };
      if (reply.after) {
        void reply.after.then(send);
      } else if (reply.delayMs) {
        setTimeout(send, reply.delayMs);
      } else {
        send();
      }
    });
  }
}
