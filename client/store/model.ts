/**
 * What a UI binds to: the store's snapshot types, in camelCase with string enums (`sessionType: 'group'`), and the
 * conversions from the wire's snake_case frames. Every object here is frozen once made and replaced, never changed,
 * so a UI compares by reference (React's `useSyncExternalStore`, `memo`, Vue's and Svelte's stores).
 */
import type { AttachmentDescription } from '../../protocol/attachments.js';
import type { ConnectionState } from '../connection.js';
import type { Conversation } from '../conversation.js';
import { attachmentOf, type UploadProgress } from '../attachments.js';
import { MsgType } from '../frames.js';
import type { MessageSource } from '../sync.js';

/** TeamTalk's session type as a string: a single chat, or a group. */
export type SessionKind = 'single' | 'group';

/** A picture or a voice note, as a message describes it (docs/protocol.md "Attachments"), in camelCase. */
export type Attachment =
  | {
      readonly kind: 'picture';
      readonly key: string;
      readonly contentType: string;
      readonly size: number;
      readonly width?: number;
      readonly height?: number;
    }
  | {
      readonly kind: 'voice';
      readonly key: string;
      readonly contentType: string;
      readonly size: number;
      /** Seconds. */
      readonly duration: number;
    };

/**
 * `pending`: shown at once, not stored yet (uploading, waiting for the connection or its ack); `stored`: the server
 * numbered it (`msgId`); `failed`: refused or given up (`error` says why; `retry()` sends it again).
 */
export type MessageStatus = 'pending' | 'stored' | 'failed';

/** An upload of a pending picture or voice note. */
export interface UploadState extends UploadProgress {
  /** `uploading`, `done` (the message is being sent), or `failed` (retry uploads again). */
  readonly state: 'uploading' | 'done' | 'failed';
}

export interface ChatMessage {
  /** Stable from pending to stored, for list keys: `c:<clientMsgId>` when it has one, else `m:<msgId>`. */
  readonly key: string;
  readonly conversation: Conversation;
  /** Undefined while pending. */
  readonly msgId: number | undefined;
  readonly clientMsgId: string | undefined;
  readonly fromUserId: string;
  readonly fromMe: boolean;
  /** Unix seconds, the server's; undefined while pending. */
  readonly createTime: number | undefined;
  /** `text`, `audio` (a clip in the app's own encoding), or an attachment's kind. */
  readonly kind: 'text' | 'audio' | 'picture' | 'voice';
  /** The text of a text message; undefined for the others. */
  readonly text: string | undefined;
  /** The wire's msg_data as it is (an audio clip's base64, an attachment's JSON). */
  readonly data: string;
  readonly attachment: Attachment | undefined;
  readonly status: MessageStatus;
  /** Why it failed (`code`: the server's error code, or the SDK error's name). */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /** How it came: `live`, `missed` (while away), `history`; `sent` for this device's own sends. */
  readonly source: MessageSource | 'sent';
  /** A pending picture's or voice note's upload. */
  readonly upload: UploadState | undefined;
  /** A group message of a user this user blocks (`blocked_sender`): show it collapsed. */
  readonly blockedSender: boolean;
  /** A tombstone: removed by a moderator or with its sender's account; `data` is empty (show "message deleted"). */
  readonly deleted: boolean;
  /** Recalled by its sender or the group's owner (`msg_recall`); `data` is empty (show "message recalled"). */
  readonly recalled: boolean;
  /** Unix seconds of its last edit (`msg_edit`; `text` is the new text), undefined when never edited. */
  readonly editedAt: number | undefined;
}

/** A session's newest message, for the list. */
export interface MessagePreview {
  readonly msgId: number;
  readonly fromUserId: string;
  readonly fromMe: boolean;
  readonly kind: ChatMessage['kind'];
  readonly text: string | undefined;
  readonly attachment: Attachment | undefined;
  /** The message was recalled (`text` is empty). */
  readonly recalled: boolean;
  /** Unix seconds of its last edit, undefined when never edited. */
  readonly editedAt: number | undefined;
}

export interface SessionSummary {
  /** conversationKey: `1:<peer>` or `2:<group id>`. */
  readonly key: string;
  readonly conversation: Conversation;
  readonly sessionType: SessionKind;
  /** The peer's or group's display name (the app's `displayName` hook, a group's name, else the id). */
  readonly title: string;
  readonly unreadCount: number;
  /** Unix seconds of the last change (its newest message). */
  readonly updatedTime: number;
  readonly latestMessage: MessagePreview | undefined;
}

export interface HistoryState {
  /** A page is being loaded. */
  readonly loading: boolean;
  /** Older messages may exist on the server: `loadOlder()` loads them. */
  readonly hasMore: boolean;
  /** The newest page was loaded (what catch-up and live messages add to is complete from there). */
  readonly loadedNewest: boolean;
}

export interface ConversationState {
  readonly key: string;
  readonly conversation: Conversation;
  readonly sessionType: SessionKind;
  readonly title: string;
  /** Stored messages in msg_id order, then the pending and failed ones in the order they were sent. */
  readonly messages: readonly ChatMessage[];
  readonly history: HistoryState;
  /** This user read up to this msg_id (on any device). */
  readonly readUpTo: number;
  /** Single chat: the peer read this user's messages up to this msg_id (read receipts); 0 for groups. */
  readonly peerReadUpTo: number;
}

export interface GroupState {
  readonly groupId: string;
  readonly name: string | undefined;
  readonly ownerId: string | undefined;
  /** As far as known (group_info pages through all of them). */
  readonly memberIds: readonly string[] | undefined;
  /** Member changes seen while this store ran, newest last (at most 20). */
  readonly changes: readonly {
    readonly changeType: 'add' | 'del';
    readonly userIds: readonly string[];
    readonly time: number;
  }[];
}

/** The connection as a UI shows it: `online`, `connecting` (first attempt or reconnecting), `offline`. */
export interface ConnectionView {
  readonly status: 'online' | 'connecting' | 'offline';
  readonly state: ConnectionState;
  /** While reconnecting: when the next attempt starts (ms since the epoch). */
  readonly nextAttemptAt: number | undefined;
  /** What went wrong last, while not online. */
  readonly error: string | undefined;
}

/** Everything a UI shows, at one moment. */
export interface ChatSnapshot {
  /** The signed-in user (the token's `sub`); undefined until known. */
  readonly userId: string | undefined;
  readonly connection: ConnectionView;
  /** The recent-sessions list, newest first, kept live. */
  readonly sessions: readonly SessionSummary[];
  readonly unreadTotal: number;
  /** The conversations the app opened or got messages for, by conversationKey. */
  readonly conversations: Readonly<Record<string, ConversationState>>;
  readonly groups: Readonly<Record<string, GroupState>>;
  /** Display names the app's hook gave for users, by user id. */
  readonly names: Readonly<Record<string, string>>;
  /** Who is typing, by conversationKey: conversations where nobody types are absent (ChatClient `typingUsers`). */
  readonly typing: Readonly<Record<string, readonly string[]>>;
}

export const sessionKindOf = (conversation: Conversation): SessionKind =>
  conversation.type === 'group' ? 'group' : 'single';

/** An attachment description in camelCase. */
export function attachmentFrom(description: AttachmentDescription): Attachment {
  const { key, content_type: contentType, size } = description;
  if (description.attachment === 'voice')
    return { kind: 'voice', key, contentType, size, duration: description.duration ?? 0 };
  return {
    kind: 'picture',
    key,
    contentType,
    size,
    ...(description.width === undefined ? {} : { width: description.width }),
    ...(description.height === undefined ? {} : { height: description.height }),
  };
}

/** What a msg_data says: its kind, text and attachment (a flagged JSON description is never shown as text). */
export function contentOf(msgType: number, data: string): Pick<ChatMessage, 'kind' | 'text' | 'attachment'> {
  const description = attachmentOf(data);
  if (description) {
    const attachment = attachmentFrom(description);
    return { kind: attachment.kind, text: undefined, attachment };
  }
  const audio = msgType === MsgType.SingleAudio || msgType === MsgType.GroupAudio;
  return { kind: audio ? 'audio' : 'text', text: audio ? undefined : data, attachment: undefined };
}

/** The fields of a stored message, wherever it came from (a msg_data frame, a history page, an ack). */
export interface StoredFields {
  readonly msgId: number;
  readonly fromUserId: string;
  readonly createTime: number;
  readonly msgType: number;
  readonly data: string;
  readonly clientMsgId: string | undefined;
  /** The server flagged it `blocked_sender` (a group message of a user this user blocks). */
  readonly blockedSender?: boolean;
  /** A tombstone (`deleted` on the wire). */
  readonly deleted?: boolean;
  /** Recalled (`recalled` on the wire). */
  readonly recalled?: boolean;
  /** `edited_at` on the wire. */
  readonly editedAt?: number | undefined;
}

export function storedMessage(
  conversation: Conversation,
  fields: StoredFields,
  userId: string | undefined,
  source: ChatMessage['source'],
): ChatMessage {
  return Object.freeze({
    key: fields.clientMsgId === undefined ? `m:${fields.msgId}` : `c:${fields.clientMsgId}`,
    conversation,
    msgId: fields.msgId,
    clientMsgId: fields.clientMsgId,
    fromUserId: fields.fromUserId,
    fromMe: fields.fromUserId === userId,
    createTime: fields.createTime,
    ...contentOf(fields.msgType, fields.data),
    // A recalled message has no content to show (the server emptied msg_data).
    ...(fields.recalled === true ? { text: undefined, attachment: undefined } : {}),
    data: fields.data,
    status: 'stored' as const,
    error: undefined,
    source,
    upload: undefined,
    blockedSender: fields.blockedSender === true,
    deleted: fields.deleted === true,
    recalled: fields.recalled === true,
    editedAt: fields.editedAt,
  });
}

/** This device's own message, shown at once. */
export function pendingMessage(
  conversation: Conversation,
  clientMsgId: string,
  userId: string,
  msgType: number,
  data: string,
  upload?: UploadState,
  kind?: ChatMessage['kind'],
): ChatMessage {
  const content = contentOf(msgType, data);
  return Object.freeze({
    key: `c:${clientMsgId}`,
    conversation,
    msgId: undefined,
    clientMsgId,
    fromUserId: userId,
    fromMe: true,
    createTime: undefined,
    ...content,
    ...(kind ? { kind } : {}),
    data,
    status: 'pending' as const,
    error: undefined,
    source: 'sent' as const,
    upload,
    blockedSender: false,
    deleted: false,
    recalled: false,
    editedAt: undefined,
  });
}

export function previewOf(message: ChatMessage): MessagePreview | undefined {
  if (message.msgId === undefined) return undefined;
  const { msgId, fromUserId, fromMe, kind, text, attachment, recalled, editedAt } = message;
  return Object.freeze({ msgId, fromUserId, fromMe, kind, text, attachment, recalled, editedAt });
}

/** A preview of the wire's latest-message fields (recent_sessions, unread_cnt). */
export function wirePreview(
  msgId: number,
  fromUserId: string,
  msgType: number,
  data: string,
  userId: string | undefined,
  change: { readonly recalled?: boolean | undefined; readonly editedAt?: number | undefined } = {},
): MessagePreview | undefined {
  if (msgId <= 0) return undefined;
  return Object.freeze({
    msgId,
    fromUserId,
    fromMe: fromUserId === userId,
    ...contentOf(msgType, data),
    ...(change.recalled === true ? { text: undefined, attachment: undefined } : {}),
    recalled: change.recalled === true,
    editedAt: change.editedAt,
  });
}

/**
 * Whether `next` is a later state of the same stored message than `known`: removed or recalled (for good), or edited
 * later. A copy that says less (a redelivery read before the change) never undoes one.
 */
export function isLaterState(known: ChatMessage, next: ChatMessage): boolean {
  if (known.deleted || known.recalled) return next.deleted && !known.deleted;
  if (next.deleted || next.recalled) return true;
  return (next.editedAt ?? 0) > (known.editedAt ?? 0);
}
