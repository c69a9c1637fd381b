/** Checking what applications pass in: options that pick a token source or a network, and send() input. */
import type { NetworkEvents } from './connection.js';
import { conversationKey, group, msgTypeOf, peer, type Conversation } from './conversation.js';
import { CLIENT_MSG_ID_MAX_LENGTH } from './frames.js';
import { createClientMsgId } from './ids.js';
import type { OutgoingMessage } from './outbox.js';
import type { ChatClientOptions, SendInput } from './types.js';

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

/** Checks `send()` input and makes the outbox entry's fields; throws TypeError on bad input. */
export function outgoingMessage(input: SendInput): OutgoingMessage {
  const conversation = checked(input.to);
  if (input.kind !== undefined && input.kind !== 'text' && input.kind !== 'audio')
    throw new TypeError("send: kind must be 'text' or 'audio'");
  const msgType = msgTypeOf(conversation, input.kind);
  const { msgData } = input;
  const clientMsgId = input.clientMsgId ?? createClientMsgId();
  if (typeof msgData !== 'string') throw new TypeError('send: msgData must be a string');
  if (typeof clientMsgId !== 'string' || clientMsgId === '' || clientMsgId.length > CLIENT_MSG_ID_MAX_LENGTH) {
    throw new TypeError(`send: clientMsgId must be 1–${CLIENT_MSG_ID_MAX_LENGTH} characters`);
  }
  return { clientMsgId, conversation, key: conversationKey(conversation), msgType, msgData };
}
