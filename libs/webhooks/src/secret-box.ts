import { randomBytes } from 'node:crypto';
import { SecretBox } from '@app/shared';

/** The box for webhook endpoint secrets (the endpoint id is the context). */
export const webhookSecretBox = (secretsKey: string) => new SecretBox(secretsKey, 'webhook-endpoint-secrets');

/** `whsec_` + base64 of 32 random bytes, the Standard Webhooks secret format. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
