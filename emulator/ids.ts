/** Identifiers and timestamps formatted the way API Gateway formats them. */
import { randomBytes } from 'node:crypto';

/**
 * API Gateway connection ids look like `L0SM9cOFvHcCIhw=`: 16 characters, 11 random bytes in base64 (here with
 * `-`/`_` in place of `+`/`/`), padding kept. The `=` makes them need URL-encoding in @connections paths, as on AWS.
 */
export function newConnectionId(): string {
  return `${randomBytes(11).toString('base64url')}=`;
}

/** Request ids (equal to the extended request id in WebSocket events) and message ids share that shape on AWS. */
export const newRequestId = newConnectionId;

/** A 10-character lowercase id like an API Gateway apiId (`abcde12345`). */
export function newApiId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (b) => alphabet[b % alphabet.length]).join('');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.requestTime`: CLF format in UTC, e.g. `09/Feb/2019:11:21:45 +0000`. */
export function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}
