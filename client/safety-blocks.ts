/**
 * Blocking users (docs/protocol.md "Block"): `ChatClient.block`, `unblock` and `blockList` call these. A block stops
 * one-to-one messages both ways (a send is refused with BlockedError), read receipts both ways, and the blocked user's
 * pushes; the blocked user's group messages still arrive, with `blocked_sender: true`, for the app to collapse.
 */
import { ChatServerError } from './errors.js';
import { isUserId, type ReplyFrame, type RequestMap } from './frames.js';

/** `block()` past the server's cap on blocks per user (`limit_exceeded`; LIMIT_DEFAULTS.maxBlocksPerUser). */
export class BlockLimitError extends ChatServerError {
  override readonly name = 'BlockLimitError';
}

/**
 * A one-to-one `send()` refused because one of the pair blocks the other (`not_allowed`): nothing was stored and nothing
 * will be delivered, now or after an unblock.
 */
export class BlockedError extends ChatServerError {
  override readonly name = 'BlockedError';
}

/** The request half of ChatClient these need. */
export type BlockRequester = <A extends 'user_block' | 'user_unblock' | 'block_list'>(
  action: A,
  fields: RequestMap[A]['request'],
) => Promise<ReplyFrame<A>>;

function checkedUserId(method: string, userId: string): string {
  if (!isUserId(userId)) throw new TypeError(`${method}: userId must be 1–128 characters of A-Za-z0-9_.@-`);
  return userId;
}

/** `error` as an instance of `Type` when it is a plain ChatServerError with `code`; anything else as it is. */
export function typed<E extends ChatServerError>(
  error: unknown,
  code: string,
  Type: new (code: string, message: string, seq?: number) => E,
): unknown {
  if (!(error instanceof ChatServerError) || error.constructor !== ChatServerError || error.code !== code) return error;
  const result = new Type(error.serverCode, '', error.seq);
  result.message = error.message;
  return result;
}

/** A one-to-one send's refusal: `not_allowed` means the pair is blocked (BlockedError); the outbox calls it. */
export function blockedSendError(error: ChatServerError): ChatServerError {
  return typed(error, 'not_allowed', BlockedError) as ChatServerError;
}

export async function block(request: BlockRequester, userId: string): Promise<void> {
  await request('user_block', { user_id: checkedUserId('block', userId) }).catch((error: unknown) => {
    throw typed(error, 'limit_exceeded', BlockLimitError);
  });
}

export async function unblock(request: BlockRequester, userId: string): Promise<void> {
  await request('user_unblock', { user_id: checkedUserId('unblock', userId) });
}

/** Every user this user blocks, a page (up to 200) per request, in user id order. */
export async function* blockList(request: BlockRequester): AsyncGenerator<string, void, undefined> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await request('block_list', token === undefined ? {} : { page_token: token });
    yield* page.user_ids;
    // A repeated token ends it: a server bug must not loop the client.
    token = page.next_page_token !== undefined && !seen.has(page.next_page_token) ? page.next_page_token : undefined;
    if (token !== undefined) seen.add(token);
  } while (token !== undefined);
}
