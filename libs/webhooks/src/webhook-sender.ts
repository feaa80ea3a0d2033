import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { AddressGuard, BlockedAddressError } from './address-guard';

export const RESPONSE_EXCERPT_BYTES = 4096;

export interface SendResult {
  /** 0 when there was no HTTP answer. */
  statusCode: number;
  durationMs: number;
  /** Error class: null on any HTTP answer, else timeout | connection | dns | tls | blocked_address | network. */
  error: string | null;
  /** Human detail of the error, for the attempt log's excerpt when there is no body. */
  detail: string | null;
  responseExcerpt: string | null;
  retryAfter: string | null;
}

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; name?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string') {
      codes.push(e.code);
    }
    if (typeof e.name === 'string') {
      codes.push(e.name);
    }
    if (codes.length > 10) {
      break;
    }
  }
  return codes;
}

export function errorClass(error: unknown, timedOut: boolean): string {
  const codes = errorCodes(error);
  const has = (...names: string[]) => names.some((n) => codes.includes(n));
  if (has('EBLOCKEDADDRESS', 'BlockedAddressError')) {
    return 'blocked_address';
  }
  if (timedOut || has('UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT')) {
    return 'timeout';
  }
  if (has('ENOTFOUND', 'EAI_AGAIN', 'ENODATA', 'EAI_FAIL')) {
    return 'dns';
  }
  if (codes.some((c) => c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(c))) {
    return 'tls';
  }
  if (has('ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET')) {
    return 'connection';
  }
  return 'network';
}

/**
 * Every connection is checked before it is used: an IP literal before connecting, a name via
 * a lookup that drops refused addresses, and finally the address actually connected to.
 */
function guardedConnector(guard: AddressGuard, connectTimeoutMs: number): buildConnector.connector {
  const base = buildConnector({ lookup: guard.lookup, timeout: connectTimeoutMs });
  return (options, callback) => {
    const host = options.hostname.replace(/^\[|\]$/g, '');
    const literalRefusal = isIP(host) ? guard.refusal(host) : null;
    if (literalRefusal !== null) {
      callback(new BlockedAddressError(host, literalRefusal), null);
      return;
    }
    base(options, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error('no socket'), null);
        return;
      }
      const remote = socket.remoteAddress ?? '';
      const refusal = guard.refusal(remote);
      if (refusal !== null) {
        socket.destroy();
        callback(new BlockedAddressError(remote || host, refusal), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** One HTTP POST per attempt: undici, a hard deadline, no redirects, the first 4 KB of the answer. */
export class WebhookSender {
  private readonly agent: Agent;

  constructor(
    guard: AddressGuard,
    private readonly timeoutMs: number,
  ) {
    this.agent = new Agent({
      connect: guardedConnector(guard, Math.min(timeoutMs, 10_000)),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const began = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const elapsed = () => Math.round(performance.now() - began);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'alliance-tracker-webhooks/1' },
        body,
        dispatcher: this.agent,
        signal: controller.signal,
      });
      const excerpt = await readExcerpt(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        statusCode: response.statusCode,
        durationMs: elapsed(),
        error: null,
        detail: null,
        responseExcerpt: excerpt,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : (retryAfter ?? null),
      };
    } catch (error) {
      const kind = errorClass(error, timedOut);
      const message = kind === 'timeout' ? `no answer within ${this.timeoutMs} ms` : (error as Error).message;
      return { statusCode: 0, durationMs: elapsed(), error: kind, detail: message, responseExcerpt: null, retryAfter: null };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** The status code is the answer; a body cut short by the deadline still leaves its first bytes. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_EXCERPT_BYTES) {
        // The rest is not ours to read; dropping the connection is cheaper than draining it.
        body.destroy();
        break;
      }
    }
  } catch {
    // keep what arrived
  }
  return Buffer.concat(chunks)
    .subarray(0, RESPONSE_EXCERPT_BYTES)
    .toString('utf8')
    .replaceAll('\u0000', ''); // Postgres text cannot hold NUL
}
