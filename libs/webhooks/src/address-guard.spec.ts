import { AddressGuard, embeddedIpv4 } from './address-guard';
import { endpointUrlProblem } from './endpoint-url';

describe('AddressGuard', () => {
  const guard = new AddressGuard([]);

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['2002:c0a8:0101::1', 'private'],
    ['[::1]', 'loopback'],
  ])('refuses %s (%s)', (address, why) => {
    expect(guard.refusal(address)).toContain(why);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(guard.refusal(address)).toBeNull();
    },
  );

  it('lets an allow-list open ranges, also through IPv4-mapped IPv6', () => {
    const open = new AddressGuard(['127.0.0.0/8', 'fd00::/8']);
    expect(open.refusal('127.0.0.1')).toBeNull();
    expect(open.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(open.refusal('fd12::1')).toBeNull();
    expect(open.refusal('::1')).toContain('loopback');
    expect(open.refusal('10.0.0.1')).toContain('private');
  });

  it('reads the IPv4 address inside IPv6 forms', () => {
    expect(embeddedIpv4('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(embeddedIpv4('64:ff9b::0a00:0001')).toBe('10.0.0.1');
    expect(embeddedIpv4('2002:0a00:0001::')).toBe('10.0.0.1');
    expect(embeddedIpv4('2606:4700::1')).toBeNull();
  });

  it('lookup drops refused addresses and fails when none is left', (done) => {
    guard.lookup('localhost', { all: true }, (error) => {
      expect(error?.message).toMatch(/loopback/);
      done();
    });
  });
});

describe('endpointUrlProblem', () => {
  const guard = new AddressGuard([]);
  const resolver = (answers: Record<string, string[]>) => async (host: string) => {
    if (!answers[host]) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    }
    return answers[host].map((address) => ({ address }));
  };

  it.each([
    ['ftp://example.org/x', /http or https/],
    ['not a url', /absolute/],
    ['https://user:pw@example.org/', /credentials/],
    ['http://127.0.0.1:8080/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://169.254.169.254/latest/meta-data', /metadata/],
    ['http://10.0.0.5/', /private/],
    ['http://[fd00::1]/', /unique-local/],
    ['http://[::ffff:192.168.0.1]/', /private/],
    ['http://rebind.test/', /rebind.test resolves to 192.168.0.7, a private address/],
    ['http://nowhere.test/', /does not resolve/],
  ])('refuses %s', async (url, message) => {
    const problem = await endpointUrlProblem(url, guard, resolver({ 'rebind.test': ['93.184.215.14', '192.168.0.7'] }));
    expect(problem).toMatch(message);
  });

  it('accepts public http(s) URLs', async () => {
    const resolve = resolver({ 'hooks.example.org': ['93.184.215.14'] });
    await expect(endpointUrlProblem('https://hooks.example.org/in', guard, resolve)).resolves.toBeNull();
    await expect(endpointUrlProblem('http://93.184.215.14:8080/in', guard, resolve)).resolves.toBeNull();
  });
});
