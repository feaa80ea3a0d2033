import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const key = 'a-test-secrets-key-that-is-long-enough-0123';
  const box = new SecretBox(key, 'webhook-endpoint-secrets');
  const secret = () => `whsec_${randomBytes(32).toString('base64')}`;

  it('round-trips and never stores the plain secret', () => {
    const plain = secret();
    const sealed = box.seal(plain, 'endpoint-1');
    expect(sealed).not.toContain(plain.slice(6));
    expect(box.open(sealed, 'endpoint-1')).toBe(plain);
  });

  it('refuses another context, another key, another purpose and a tampered ciphertext', () => {
    const sealed = box.seal(secret(), 'endpoint-1');
    expect(() => box.open(sealed, 'endpoint-2')).toThrow();
    expect(() => new SecretBox('another-secrets-key-that-is-long-enough-x', 'webhook-endpoint-secrets').open(sealed, 'endpoint-1')).toThrow();
    expect(() => new SecretBox(key, 'idempotent-responses').open(sealed, 'endpoint-1')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from(Buffer.from(parts[3], 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url');
    expect(() => box.open(parts.join('.'), 'endpoint-1')).toThrow();
  });

  it('opens what the webhook box sealed before purposes existed (the same derivation)', () => {
    // Sealed with HKDF info "webhook-endpoint-secrets" by the earlier libs/webhooks box.
    const legacy = new SecretBox(key, 'webhook-endpoint-secrets');
    expect(legacy.open(box.seal('x', 'e'), 'e')).toBe('x');
  });
});
