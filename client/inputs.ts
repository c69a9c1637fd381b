/** Checking what applications pass in: options that pick a token source or a network, and send() input. */
import type { NetworkEvents } from './connection.js';
import { conversationKey, group, msgTypeOf, peer, type Conversation } from './conversation.js';
import { CLIENT_MSG_ID_MAX_LENGTH, MsgType, isGroupId, isGroupMsgType } from './frames.js';
import { createClientMsgId } from './ids.js';
import type { OutgoingMessage } from './outbox.js';
import type { ChatClientOptions, LegacySendInput, SendInput } from './types.js';

/** `getToken`, or a fixed `token` (which cannot be renewed). */
export function tokenSource(options: ChatClientOptions): {
  getToken: () => Promise<string>;
  tokenIsRenewable: boolean;
} {
  const { token, getToken } = options;
  if (getToken) return { getToken: async () => getToken(), tokenIsRenewable: true };
  if (typeof token === 'string' && token !== '') return { getToken: async () => token, tokenIsRenewable: false };
  throw new TypeError('ChatClient: token or getToken is required');
}

/** Where `online` events come from: the option, else the global scope where it has them (browsers). */
export function networkEventsOf(option: NetworkEvents | false | undefined): NetworkEvents | undefined {
  if (option === false) return undefined;
  if (option) return option;
  const global = globalThis as Partial<NetworkEvents>;
  return typeof global.addEventListener === 'function' && typeof global.removeEventListener === 'function'
    ? (global as NetworkEvents)
    : undefined;
}

/** A conversation the application built by hand, checked as peer() and group() check theirs. */
function checked(conversation: Conversation): Conversation {
  if (conversation?.type === 'peer') return peer(conversation.id);
  if (conversation?.type === 'group') return group(conversation.id);
  throw new TypeError('a conversation is peer(userId) or group(groupId)');
}

/** The conversation of a legacy (sessionId, sessionType) pair: without a type, a group id names the group. */
export function legacyConversation(sessionId: string, sessionType: number | undefined): Conversation {
  if (sessionType === 2 || (sessionType === undefined && isGroupId(sessionId))) return group(sessionId);
  return peer(sessionId);
}

/** Checks `send()` input and makes the outbox entry's fields; throws TypeError on bad input. */
export function outgoingMessage(input: SendInput | LegacySendInput): OutgoingMessage {
  let conversation: Conversation;
  let msgType: MsgType;
  if ('to' in input) {
    conversation = checked(input.to);
    if (input.kind !== undefined && input.kind !== 'text' && input.kind !== 'audio')
      throw new TypeError("send: kind must be 'text' or 'audio'");
    msgType = msgTypeOf(conversation, input.kind);
  } else {
    if (input.msgType !== undefined && !(Object.values(MsgType) as number[]).includes(input.msgType))
      throw new TypeError('send: msgType must be 1, 2, 17 or 18');
    const inGroup = input.msgType === undefined ? isGroupId(input.toSessionId) : isGroupMsgType(input.msgType);
    conversation = inGroup ? group(input.toSessionId) : peer(input.toSessionId);
    msgType = input.msgType ?? msgTypeOf(conversation);
  }
  const { msgData } = input;
  const clientMsgId = input.clientMsgId ?? createClientMsgId();
  if (typeof msgData !== 'string') throw new TypeError('send: msgData must be a string');
  if (typeof clientMsgId !== 'string' || clientMsgId === '' || clientMsgId.length > CLIENT_MSG_ID_MAX_LENGTH) {
    throw new TypeError(`send: clientMsgId must be 1–${CLIENT_MSG_ID_MAX_LENGTH} characters`);
  }
  return { clientMsgId, conversation, key: conversationKey(conversation), msgType, msgData };
}
