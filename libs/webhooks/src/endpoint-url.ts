import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { AddressGuard } from './address-guard';

export type Resolver = (hostname: string) => Promise<Array<{ address: string }>>;

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * Why a URL cannot be a webhook endpoint, or null. Checked when an endpoint is created or its
 * URL changes; the connect-time guard checks again on every attempt (DNS can change).
 */
export async function endpointUrlProblem(
  raw: string,
  guard: AddressGuard,
  resolve: Resolver = systemResolver,
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `must use http or https, not ${url.protocol.replace(/:$/, '')}`;
  }
  if (url.username || url.password) {
    return 'must not carry credentials; authenticate the request with its signature';
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) {
    const reason = guard.refusal(host);
    return reason === null ? null : `${host} is ${reason}`;
  }
  let addresses: Array<{ address: string }>;
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      return `host ${host} does not resolve`;
    }
    // A resolver outage is not the caller's fault; the connect-time guard still applies.
    return null;
  }
  for (const { address } of addresses) {
    const reason = guard.refusal(address);
    if (reason !== null) {
      return `host ${host} resolves to ${address}, ${reason}`;
    }
  }
  return null;
}
