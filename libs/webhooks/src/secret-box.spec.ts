import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret, SecretBox } from './secret-box';
import { signWebhook } from './signer';

describe('SecretBox', () => {
  const box = new SecretBox('a-test-secrets-key-that-is-long-enough-0123');

  it('round-trips and never stores the plain secret', () => {
    const secret = generateWebhookSecret();
    const sealed = box.seal(secret, 'endpoint-1');
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, 'endpoint-1')).toBe(secret);
  });

  it('refuses another endpoint, another key and a tampered ciphertext', () => {
    const sealed = box.seal(generateWebhookSecret(), 'endpoint-1');
    expect(() => box.open(sealed, 'endpoint-2')).toThrow();
    expect(() => new SecretBox('another-secrets-key-that-is-long-enough-x').open(sealed, 'endpoint-1')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from(Buffer.from(parts[3], 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url');
    expect(() => box.open(parts.join('.'), 'endpoint-1')).toThrow();
  });

  it('makes Standard Webhooks secrets of 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
  });
});

describe('signWebhook', () => {
  it('verifies with the standardwebhooks package, for every secret it signs with', () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const body = JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: { x: 'é' } });
    const headers = signWebhook([a, b], 'msg-1', Math.floor(Date.now() / 1000), body);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(b).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });
});
