/**
 * The content check on a team's Lambda function, against a local server standing in for Lambda's Invoke API: the call
 * is SigV4-signed, its answer decides, and a failure (function error, status, oversized or unreadable answer,
 * redirect, timeout) is decided by failOpen; nothing waits past the timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaContentCheck, MAX_CONTENT_CHECK_ANSWER_BYTES } from '../../core/gateway/lambda-content-check.js';

const request = { from_user_id: 'alice', to_session_id: 'bob', msg_type: 1, msg_data: 'hello' };
const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

let server: Server | undefined;
const held: ServerResponse[] = [];
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

/** A fake Invoke endpoint answering with `answer`; what it was sent is recorded. */
async function lambdaEndpoint(answer: (res: ServerResponse) => void): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body: JSON.parse(body) });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

const check = (endpoint: string, failOpen: boolean, timeoutMs = 5_000) =>
  new LambdaContentCheck({
    functionName: 'team-check',
    region: 'eu-west-1',
    timeoutMs,
    failOpen,
    endpoint,
    credentials,
  });

const json =
  (value: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(value));
  };

describe('LambdaContentCheck', () => {
  it('invokes the function with a signed request and the message, and takes its answer', async () => {
    const { endpoint, seen } = await lambdaEndpoint(json({ allow: false }));
    expect(await check(endpoint, true).allows(request)).toBe(false);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/2015-03-31/functions/team-check/invocations',
      body: request,
    });
    expect(seen[0]!.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request/,
    );
  });

  it('lets a message through when the function allows it', async () => {
    const { endpoint } = await lambdaEndpoint(json({ allow: true }));
    expect(await check(endpoint, false).allows(request)).toBe(true);
  });

  it.each([
    ['a function error', json({ errorMessage: 'boom' }, { 'x-amz-function-error': 'Unhandled' })],
    ['a status other than 200', (res: ServerResponse) => res.writeHead(429).end('{}')],
    ['an answer without a boolean allow', json({ allow: 'yes' })],
    ['an answer past 4 KB', json({ allow: true, pad: 'x'.repeat(MAX_CONTENT_CHECK_ANSWER_BYTES) })],
    [
      'a redirect, which is not followed',
      (res: ServerResponse) => res.writeHead(302, { location: '/elsewhere' }).end(),
    ],
  ])('%s fails the check: failOpen decides', async (_name, answer) => {
    const { endpoint, seen } = await lambdaEndpoint(answer);
    expect(await check(endpoint, true).allows(request)).toBe(true);
    expect(await check(endpoint, false).allows(request)).toBe(false);
    expect(seen).toHaveLength(2);
  });

  it('gives up at its timeout on a function that never answers', async () => {
    const { endpoint } = await lambdaEndpoint((res) => held.push(res));
    expect(await check(endpoint, false, 200).allows(request)).toBe(false);
    expect(await check(endpoint, true, 200).allows(request)).toBe(true);
  });
});
