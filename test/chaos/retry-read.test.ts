/**
 * The chaos checks read every conversation through the API after the run; the devices' tokens expire meanwhile, so
 * a read can meet a kick (a CI run failed with "connection closed before the reply" out of the checks).
 */
import { describe, expect, it } from 'vitest';
import { retryRead } from '../../chaos/common.js';
import { ChatServerError, ConnectionClosedError, KickedError, RequestTimeoutError } from '../../client/index.js';

describe('retryRead', () => {
  it('asks again after a connection loss or a timeout, and returns what the read finally answers', async () => {
    const failures: Error[] = [
      new KickedError('token_expired'),
      new ConnectionClosedError('connection closed before the reply'),
      new RequestTimeoutError('msg_list', 10_000),
    ];
    let calls = 0;
    const value = await retryRead(async () => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return 'page';
    });
    expect(value).toBe('page');
    expect(calls).toBe(4);
  });

  it('does not retry a refusal, and gives up after its attempts', async () => {
    let calls = 0;
    const refusal = new ChatServerError('bad_request', 'no');
    await expect(
      retryRead(async () => {
        calls++;
        throw refusal;
      }),
    ).rejects.toBe(refusal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      retryRead(async () => {
        calls++;
        throw new ConnectionClosedError('gone');
      }, 3),
    ).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(calls).toBe(3);
  });
});
