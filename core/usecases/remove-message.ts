/**
 * Tombstones: a message's content and attachment erased, its msg_id kept (docs/protocol.md "Tombstones"). The
 * operator's remove-message makes one; the account deletion job makes one of every message the user sent. The
 * attachment goes first (its stored copy and the upload it came from), then the message: a crash in between leaves a
 * message whose picture is gone, and running again finishes it, never a tombstone whose picture lives on.
 */
import { parseAttachment } from '../../protocol/attachments.js';
import { groupConversationId } from '../domain/group.js';
import { singleConversationId } from '../domain/ids.js';
import type { MessageContent, TombstoneStore } from '../ports/accounts.js';
import type { AttachmentBlobs } from '../ports/attachments.js';
import { storedKey } from './attachments.js';

export interface TombstonePorts {
  readonly tombstones: TombstoneStore;
  /** Undefined when the stack has no attachment bucket. */
  readonly attachments: AttachmentBlobs | undefined;
}

/** How an operator names a message: a one-to-one conversation by its two users, a group by its id; and the msg_id. */
export type MessageAddress =
  | { readonly sessionType: 1; readonly users: readonly [string, string]; readonly msgId: number }
  | { readonly sessionType: 2; readonly groupId: string; readonly msgId: number };

export function conversationOf(address: MessageAddress): string {
  return address.sessionType === 1
    ? singleConversationId(address.users[0], address.users[1])
    : groupConversationId(address.groupId);
}

/** Erases one message for everyone: `missing` when none is stored there, `already` when it is a tombstone. */
export async function removeMessage(
  ports: TombstonePorts,
  address: MessageAddress,
): Promise<'removed' | 'already' | 'missing'> {
  const conversationId = conversationOf(address);
  const message = await ports.tombstones.get(conversationId, address.msgId);
  if (!message) return 'missing';
  if (message.deleted) return 'already';
  return (await tombstoneMessage(ports, conversationId, message)) ? 'removed' : 'already';
}

/** Deletes the message's attachment, then tombstones it (if `message.fromUserId` still sent it and it is not one). */
export async function tombstoneMessage(
  ports: TombstonePorts,
  conversationId: string,
  message: MessageContent,
): Promise<boolean> {
  for (const key of attachmentKeys(message.msgData)) await ports.attachments?.delete(key);
  return ports.tombstones.tombstone(conversationId, message.msgId, message.fromUserId);
}

/** The bucket keys a message's attachment lives under: its stored copy and its upload. */
export function attachmentKeys(msgData: string): string[] {
  let key: string | undefined;
  try {
    key = parseAttachment(msgData)?.key;
  } catch {
    return []; // flagged but malformed: the send refused it, so nothing was stored for it
  }
  return key === undefined ? [] : [storedKey(key), key];
}
