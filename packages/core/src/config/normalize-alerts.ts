import { TollgateConfigError } from '../errors/config-error';
import { expectKnownKeys, expectRecord, expectString, optionalNumber } from './config-reader';

/** The threshold webhook after validation, defaults filled in. */
export interface NormalizedWebhook {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeoutMillis: number;
  maxAttempts: number;
  closeTimeoutMillis: number;
}

/** Validates `alerts`; returns the webhook to POST threshold alerts to, if any. */
export function normalizeAlerts(value: unknown): NormalizedWebhook | undefined {
  if (value === undefined) return undefined;
  const alerts = expectRecord(value, 'alerts');
  expectKnownKeys(alerts, 'alerts', ['webhook']);
  if (alerts.webhook === undefined) return undefined;
  const webhook = expectRecord(alerts.webhook, 'alerts.webhook');
  expectKnownKeys(webhook, 'alerts.webhook', [
    'url',
    'headers',
    'timeoutMillis',
    'maxAttempts',
    'closeTimeoutMillis',
  ]);
  const url = expectString(webhook.url, 'alerts.webhook.url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TollgateConfigError('alerts.webhook.url', 'is not a valid URL', url);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TollgateConfigError('alerts.webhook.url', 'must be an http(s) URL', url);
  }
  const headers: Record<string, string> = {};
  if (webhook.headers !== undefined) {
    for (const [name, headerValue] of Object.entries(
      expectRecord(webhook.headers, 'alerts.webhook.headers'),
    )) {
      headers[name] = expectString(headerValue, `alerts.webhook.headers.${name}`);
    }
  }
  return {
    url,
    headers,
    timeoutMillis:
      optionalNumber(webhook.timeoutMillis, 'alerts.webhook.timeoutMillis', { integer: true, min: 1 }) ??
      2_000,
    maxAttempts:
      optionalNumber(webhook.maxAttempts, 'alerts.webhook.maxAttempts', { integer: true, min: 1, max: 20 }) ??
      4,
    closeTimeoutMillis:
      optionalNumber(webhook.closeTimeoutMillis, 'alerts.webhook.closeTimeoutMillis', {
        integer: true,
        min: 0,
      }) ?? 2_000,
  };
}
