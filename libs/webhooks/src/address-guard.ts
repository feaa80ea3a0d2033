import { lookup as dnsLookup, LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';

/** An outbound request would reach an address the guard refuses (SSRF). */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${address} is ${reason}; add it to WEBHOOK_ALLOWED_CIDRS to allow it`);
    this.name = 'BlockedAddressError';
  }
}

type Family = 'ipv4' | 'ipv6';
interface Range {
  cidr: string;
  reason: string;
}

const V4: Range[] = [
  { cidr: '0.0.0.0/8', reason: 'a "this network" address' },
  { cidr: '10.0.0.0/8', reason: 'a private address' },
  { cidr: '100.64.0.0/10', reason: 'a carrier-grade NAT (shared) address' },
  { cidr: '127.0.0.0/8', reason: 'a loopback address' },
  { cidr: '169.254.169.254/32', reason: 'the cloud metadata address' },
  { cidr: '169.254.0.0/16', reason: 'a link-local address' },
  { cidr: '172.16.0.0/12', reason: 'a private address' },
  { cidr: '192.0.0.0/24', reason: 'an IETF protocol assignment address' },
  { cidr: '192.0.2.0/24', reason: 'a documentation address' },
  { cidr: '192.88.99.0/24', reason: 'a 6to4 relay address' },
  { cidr: '192.168.0.0/16', reason: 'a private address' },
  { cidr: '198.18.0.0/15', reason: 'a benchmarking address' },
  { cidr: '198.51.100.0/24', reason: 'a documentation address' },
  { cidr: '203.0.113.0/24', reason: 'a documentation address' },
  { cidr: '224.0.0.0/4', reason: 'a multicast address' },
  { cidr: '240.0.0.0/4', reason: 'a reserved or broadcast address' },
];

const V6: Range[] = [
  // Covers :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible addresses.
  { cidr: '::/96', reason: 'an unspecified, loopback or IPv4-compatible IPv6 address' },
  { cidr: '64:ff9b:1::/48', reason: 'a local-use NAT64 address' },
  { cidr: '100::/64', reason: 'a discard-only IPv6 address' },
  { cidr: '2001::/23', reason: 'an IETF protocol assignment IPv6 address (Teredo and others)' },
  { cidr: '2001:db8::/32', reason: 'a documentation IPv6 address' },
  { cidr: 'fc00::/7', reason: 'a unique-local (private) IPv6 address' },
  { cidr: 'fe80::/10', reason: 'a link-local IPv6 address' },
  { cidr: 'fec0::/10', reason: 'a site-local IPv6 address' },
  { cidr: 'ff00::/8', reason: 'a multicast IPv6 address' },
];

function compile(ranges: Range[], family: Family) {
  return ranges.map((r) => {
    const [net, bits] = r.cidr.split('/');
    const list = new BlockList();
    list.addSubnet(net, Number(bits), family);
    return { ...r, list };
  });
}
const BLOCKED_V4 = compile(V4, 'ipv4');
const BLOCKED_V6 = compile(V6, 'ipv6');

/** The 16 bytes of an IPv6 address (zone id dropped, embedded dotted quad allowed). */
export function ipv6Bytes(address: string): number[] {
  const plain = address.replace(/%.*$/, '');
  const [head, tail] = plain.includes('::') ? plain.split('::') : [plain, null];
  const words = (part: string) => {
    if (part === '') {
      return [] as number[];
    }
    return part.split(':').flatMap((w) => {
      if (isIPv4(w)) {
        const [a, b, c, d] = w.split('.').map(Number);
        return [(a << 8) | b, (c << 8) | d];
      }
      return [parseInt(w, 16)];
    });
  };
  const left = words(head);
  const right = tail === null ? [] : words(tail);
  const all = tail === null ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * IPv6 forms that carry an IPv4 address a packet may end up at: IPv4-mapped (::ffff:a.b.c.d),
 * NAT64 (64:ff9b::/96) and 6to4 (2002:AABB:CCDD::/48). They are judged as that IPv4 address.
 */
export function embeddedIpv4(address: string): string | null {
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) {
    return b.slice(12).join('.');
  }
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) {
    return b.slice(12).join('.');
  }
  if (b[0] === 0x20 && b[1] === 0x02) {
    return b.slice(2, 6).join('.');
  }
  return null;
}

/**
 * Decides whether an address may be contacted: private, loopback, link-local, CGNAT, metadata,
 * reserved and their IPv6 equivalents are refused unless an allow-list CIDR names them.
 */
export class AddressGuard {
  private readonly allowed = new BlockList();

  constructor(allowedCidrs: readonly string[]) {
    for (const cidr of allowedCidrs) {
      const [net, bits] = cidr.split('/');
      this.allowed.addSubnet(net, Number(bits), isIP(net) === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Why the address is refused, or null when it may be contacted. */
  refusal(rawAddress: string): string | null {
    const address = rawAddress.replace(/^\[|\]$/g, '');
    const version = isIP(address.replace(/%.*$/, ''));
    if (version === 0) {
      return 'not an IP address';
    }
    if (version === 4) {
      return this.refusalV4(address);
    }
    const v4 = embeddedIpv4(address);
    if (v4 !== null) {
      const reason = this.refusalV4(v4);
      return reason === null ? null : `${reason} (${v4}, embedded in IPv6)`;
    }
    const plain = address.replace(/%.*$/, '');
    if (this.allowed.check(plain, 'ipv6')) {
      return null;
    }
    return BLOCKED_V6.find((r) => r.list.check(plain, 'ipv6'))?.reason ?? null;
  }

  check(address: string): void {
    const reason = this.refusal(address);
    if (reason !== null) {
      throw new BlockedAddressError(address, reason);
    }
  }

  /**
   * A `lookup` for net.connect / tls.connect: resolves like dns.lookup and drops refused
   * addresses, so a name that (re)binds to a private address never gets a connection.
   */
  lookup = (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      const usable = addresses.filter((a) => this.refusal(a.address) === null);
      if (usable.length === 0) {
        const first = addresses[0]?.address ?? hostname;
        callback(new BlockedAddressError(first, this.refusal(first) ?? 'not resolvable'), []);
        return;
      }
      if (options.all) {
        callback(null, usable);
      } else {
        callback(null, usable[0].address, usable[0].family);
      }
    });
  };

  private refusalV4(address: string): string | null {
    if (this.allowed.check(address, 'ipv4')) {
      return null;
    }
    return BLOCKED_V4.find((r) => r.list.check(address, 'ipv4'))?.reason ?? null;
  }
}
