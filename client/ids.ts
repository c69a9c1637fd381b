/**
 * Client-side ids and the token's subject. Uses no global that React Native's Hermes may lack (TextDecoder, atob,
 * Buffer, crypto): the base64url and UTF-8 decoding are done here, in a few lines.
 */

/**
 * A new `client_msg_id`: a random UUID (36 characters, within the contract's 64). Uses crypto.randomUUID where it
 * exists, else crypto.getRandomValues, else Math.random (uniqueness per sender and conversation is all it needs).
 */
export function createClientMsgId(): string {
  const webCrypto = (globalThis as { crypto?: Partial<Pick<Crypto, 'randomUUID' | 'getRandomValues'>> }).crypto;
  if (typeof webCrypto?.randomUUID === 'function') return webCrypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof webCrypto?.getRandomValues === 'function') webCrypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The bytes of base64 or base64url text (padding optional); undefined when it is not base64. */
export function base64UrlBytes(text: string): Uint8Array | undefined {
  const clean = text.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const bytes = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of clean) {
    const digit = BASE64URL.indexOf(char);
    if (digit < 0) return undefined;
    value = (value << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >> bits) & 0xff;
    }
  }
  return bytes.subarray(0, at);
}

/** Decodes UTF-8 as TextDecoder does (the WHATWG algorithm): each malformed sequence becomes one U+FFFD. */
export function utf8Decode(bytes: ArrayLike<number>): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i++]!;
    if (lead < 0x80) {
      out += String.fromCharCode(lead);
      continue;
    }
    // Continuation bytes needed, and the range the first one must fall in (no overlongs, surrogates, > U+10FFFF).
    const [need, mask, lower, upper] =
      lead >= 0xc2 && lead <= 0xdf
        ? [1, 0x1f, 0x80, 0xbf]
        : lead >= 0xe0 && lead <= 0xef
          ? [2, 0x0f, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf]
          : lead >= 0xf0 && lead <= 0xf4
            ? [3, 0x07, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf]
            : [0, 0, 0, 0];
    let code = lead & mask;
    let n = 0;
    for (; n < need; n++) {
      const next = bytes[i];
      if (next === undefined || next < (n === 0 ? lower : 0x80) || next > (n === 0 ? upper : 0xbf)) break;
      code = (code << 6) | (next & 0x3f);
      i++;
    }
    out += need > 0 && n === need ? String.fromCodePoint(code) : '\ufffd';
  }
  return out;
}

/** The claims of a JWT, read without verifying it (the server verifies); undefined when unreadable. */
function tokenClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  const bytes = payload === undefined ? undefined : base64UrlBytes(payload);
  if (!bytes) return undefined;
  try {
    const claims: unknown = JSON.parse(utf8Decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `sub` of a JWT: the SDK needs its own user id to ack a copy of its own message received on another device
 * (with the peer as session_id) and to catch up. Undefined when unreadable.
 */
export function tokenSubject(token: string): string | undefined {
  const sub = tokenClaims(token)?.['sub'];
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}
