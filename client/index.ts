/**
 * teamtalk-serverless client SDK: a typed WebSocket client for the chat stack, for browsers and Node.
 *
 * ```ts
 * import { ChatClient } from './client/index.js';
 * const chat = new ChatClient({ url: 'ws://127.0.0.1:8787', getToken: fetchToken });
 * chat.on('message', (m) => console.log(m.from_user_id, m.msg_data)); // live and caught-up messages, once each
 * await chat.connect();
 * const ack = await chat.send({ toSessionId: 'bob', msgData: 'hi' });
 * ```
 */
export {
  ChatClient,
  type ChatClientEvents,
  type ChatClientOptions,
  type ChangeGroupMembersInput,
  type CreateGroupInput,
  type ConnectionState,
  type ListMessagesInput,
  type SendInput,
  type SessionInput,
} from './client.js';
export { parseSessionKey, sessionKey, sessionOfMessage, type CatchUpOptions, type SyncResult, type SyncState } from './sync.js';
export {
  AuthError,
  ChatError,
  ChatServerError,
  ConnectionClosedError,
  ProtocolError,
  RequestTimeoutError,
  SendTimeoutError,
} from './errors.js';
export {
  ClientType,
  MsgType,
  SessionType,
  isGroupMsgType,
  type ContactSession,
  type ErrorCode,
  type ErrorFrame,
  type GroupChangeMemberNotifyFrame,
  type GroupChangeType,
  type GroupInfo,
  type GroupListEntry,
  type KnownErrorCode,
  type ListedMessage,
  type MsgDataAckFrame,
  type MsgDataFrame,
  type MsgReadNotifyFrame,
  type RemoveSessionNotifyFrame,
  type ReplyFrame,
  type RequestAction,
  type RequestMap,
  type ServerFrame,
  type UnreadInfo,
} from './frames.js';
export { backoffDelay, type ReconnectOptions } from './backoff.js';
export { conversationKey } from './dedupe.js';
export { TypedEmitter, type Listener } from './emitter.js';
export { createClientMsgId } from './ids.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
