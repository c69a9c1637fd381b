/**
 * user_block, user_unblock, block_list (docs/protocol.md "Block"). The caller is always the verified user; the store
 * (core/store/blocks.ts) writes a block into the Blocks table and onto the pair's conversation head in one
 * transaction, so from the moment the reply is sent no one-to-one message of the pair is numbered. Blocking twice is
 * one block and unblocking what is not blocked changes nothing: a retried request is harmless.
 */
import { encodePageToken, decodePageToken } from '../domain/page-token.js';
import { FrameError } from '../errors.js';
import type { BlockStore } from '../ports/stores.js';

export interface BlockPorts {
  readonly blocks: Pick<BlockStore, 'block' | 'unblock' | 'list'>;
  readonly config: { readonly maxBlocksPerUser: number };
}

/**
 * Users per block_list page: 200 ids of at most 128 characters is under 30 KB, so a page fits one frame whatever the
 * ids (API Gateway's 128 KB).
 */
export const BLOCK_LIST_PAGE = 200;

export async function blockUser(ports: BlockPorts, userId: string, blockedId: string): Promise<{ user_id: string }> {
  refuseSelf(userId, blockedId, 'block');
  const outcome = await ports.blocks.block(userId, blockedId, ports.config.maxBlocksPerUser);
  if (outcome === 'limit') {
    throw new FrameError(
      'limit_exceeded',
      `you block ${ports.config.maxBlocksPerUser} users, the most one user may block; unblock one first`,
    );
  }
  return { user_id: blockedId };
}

export async function unblockUser(ports: BlockPorts, userId: string, blockedId: string): Promise<{ user_id: string }> {
  refuseSelf(userId, blockedId, 'unblock');
  await ports.blocks.unblock(userId, blockedId);
  return { user_id: blockedId };
}

export async function listBlocks(
  ports: BlockPorts,
  userId: string,
  request: { readonly page_token?: string | undefined },
): Promise<{ user_ids: string[]; next_page_token?: string }> {
  const after = request.page_token === undefined ? undefined : afterOf(request.page_token);
  const page = await ports.blocks.list(userId, after, BLOCK_LIST_PAGE);
  const last = page.userIds.at(-1);
  return {
    user_ids: page.userIds,
    ...(page.more && last !== undefined ? { next_page_token: encodePageToken('block_list', last) } : {}),
  };
}

function afterOf(token: string): string {
  const after = decodePageToken(token, 'block_list');
  if (typeof after !== 'string') throw new FrameError('bad_request', 'page_token: not a token from a block_list reply');
  return after;
}

/** Well formed but against the rules: `not_allowed` (a user cannot block, or unblock, itself). */
function refuseSelf(userId: string, otherId: string, verb: string): void {
  if (otherId === userId) throw new FrameError('not_allowed', `you cannot ${verb} yourself`);
}
