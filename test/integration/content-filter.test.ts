/**
 * The send path's optional word filter (docs/moderation.md "Content filter"): case-insensitive whole words of text
 * messages, refused `content_rejected` before the counter, so nothing is stored and no msg_id is taken; off when no
 * word is configured.
 */
import { describe, expect, it } from 'vitest';
import { isRejectedText } from '../../core/domain/content-filter.js';
import { FrameError } from '../../core/errors.js';
import type { ContentCheckRequest } from '../../core/ports/moderation.js';
import { acceptMessage } from '../../core/usecases/accept-message.js';
import { createTestRuntime, msgData } from '../support/runtime.js';

describe('the word list', () => {
  const words = ['darn', 'foo.bar', 'naïve'];

  it('matches whole words, in any case, with punctuation around them', () => {
    expect(isRejectedText(words, 1, 'well DARN it')).toBe(true);
    expect(isRejectedText(words, 1, '(darn)')).toBe(true);
    expect(isRejectedText(words, 17, 'Naïve!')).toBe(true);
    expect(isRejectedText(words, 1, 'see foo.bar now')).toBe(true);
  });

  it('does not match inside longer words, regex metacharacters literally, audio, or an empty list', () => {
    expect(isRejectedText(words, 1, 'darned darnit undarn')).toBe(false);
    expect(isRejectedText(words, 1, 'fooxbar')).toBe(false);
    expect(isRejectedText(words, 1, 'naïveté')).toBe(false);
    expect(isRejectedText(words, 2, 'darn')).toBe(false);
    expect(isRejectedText([], 1, 'darn')).toBe(false);
  });
});

describe('content_rejected on the send path', () => {
  it('stores nothing and takes no msg_id for a rejected message', async () => {
    const t = await createTestRuntime({ CONTENT_FILTER_WORDS: 'darn, heck' });
    const send = (text: string) =>
      acceptMessage(t.runtime, { userId: 'alice', body: msgData({ to_session_id: 'bob', msg_data: text }) });
    await expect(send('oh HECK')).rejects.toMatchObject({ constructor: FrameError, code: 'content_rejected' });
    expect(await t.items('Messages')).toEqual([]);
    expect(await t.items('Conversations')).toEqual([]);
    expect((await send('check this')).message.msgId).toBe(1);
  });
});

describe("a team's own content check (the contentCheck prop)", () => {
  it('is asked last, with the message; its no is content_rejected with nothing stored, its yes stores', async () => {
    const t = await createTestRuntime();
    const asked: ContentCheckRequest[] = [];
    const contentCheck = {
      allows: async (request: ContentCheckRequest) => {
        asked.push(request);
        return !request.msg_data.includes('spam');
      },
    };
    const ports = { ...t.runtime, contentCheck };
    const send = (text: string, to = 'bob') =>
      acceptMessage(ports, { userId: 'alice', body: msgData({ to_session_id: to, msg_data: text }) });
    await expect(send('buy spam now')).rejects.toMatchObject({ constructor: FrameError, code: 'content_rejected' });
    expect(await t.items('Messages')).toEqual([]);
    expect(await t.items('Conversations')).toEqual([]);
    expect(asked).toEqual([{ from_user_id: 'alice', to_session_id: 'bob', msg_type: 1, msg_data: 'buy spam now' }]);
    // A frame refused for anything else costs the team's function no call.
    await expect(send('hi', 'alice')).rejects.toMatchObject({ code: 'self_message' });
    expect(asked).toHaveLength(1);
    expect((await send('hello')).message.msgId).toBe(1);
    expect(asked).toHaveLength(2);
  });
});
