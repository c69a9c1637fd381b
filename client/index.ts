/**
 * teamtalk-serverless-client: a typed WebSocket client for the chat stack, for browsers, React Native and Node.
 *
 * ```ts
 * import { ChatClient, peer } from 'teamtalk-serverless-client';
 * const chat = new ChatClient({ url: 'ws://127.0.0.1:8787', getToken: fetchToken });
 * chat.on('message', (m) => console.log(m.from_user_id, m.msg_data, m.live ? 'new' : 'history'));
 * await chat.connect();
 * const ack = await chat.send({ to: peer('bob'), msgData: 'hi' });
 * ```
 */
export { ChatClient } from './client.js';
export { BlockLimitError, BlockedError } from './safety-blocks.js';
export { PRESENCE_RENEW_MS, type PresenceSubscriptions } from './presence.js';
export {
  MAX_PRESENCE_IDS,
  PRESENCE_SUBSCRIPTION_SECONDS,
  type PresenceFrame,
  type PresenceStatus,
  type SettablePresenceStatus,
  type UserStat,
} from './frames.js';
export { MessageChangeNotAllowedError } from './edits.js';
export type { TypingChange, TypingOptions, TypingTimers } from './typing.js';
export {
  AttachmentUploadError,
  attachmentOf,
  type BlobLike,
  type FileUri,
  type SendPictureInput,
  type SendVoiceInput,
  type UploadOptions,
  type UploadProgress,
  type UploadSource,
} from './attachments.js';
export type {
  ChangeGroupMembersInput,
  ChatClientEvents,
  ChatClientOptions,
  CreateGroupInput,
  ListMessagesInput,
  ReceivedMessage,
  SendInput,
  SendRetry,
  UnreadCounts,
} from './types.js';
export type { CloseReason, ConnectionState, ConnectionStatus, NetworkEvents } from './connection.js';
export {
  conversationKey,
  conversationOf,
  conversationOfMessage,
  group,
  parseSessionKey,
  peer,
  sessionKey,
  sessionRefOf,
  type Conversation,
} from './conversation.js';
export type { CatchUpOptions, MessageSource, SyncResult, SyncState } from './sync.js';
export { HOLE_RETRY_DELAYS_MS, type HoleState } from './held.js';
export type { AbortSignalLike, Deadline } from './deadline.js';
export {
  AbortError,
  AuthError,
  ChatError,
  ConnectTimeoutError,
  type ChatErrorOptions,
  ChatServerError,
  ConnectionClosedError,
  KickedError,
  ProtocolError,
  RETRYABLE_CODES,
  RequestTimeoutError,
  SendTimeoutError,
} from './errors.js';
export { ExportTimeoutError, type ReportInput } from './safety-reports.js';
export {
  ClientType,
  DEVICE_PLATFORMS,
  ERROR_CODES,
  IDEMPOTENCY_WINDOW_SECONDS,
  REPORT_REASONS,
  type AccountExportReadyFrame,
  type ReportReason,
  type ReportTarget,
  LIMIT_DEFAULTS,
  AUDIO_CONTENT_TYPES,
  IMAGE_CONTENT_TYPES,
  type AttachmentDescription,
  MsgType,
  SessionType,
  isGroupId,
  isGroupMsgType,
  isUserId,
  type ContactSession,
  type DevicePlatform,
  type ErrorCode,
  type ErrorFrame,
  type GroupChangeMemberNotifyFrame,
  type GroupChangeType,
  type GroupInfo,
  type GroupListEntry,
  type KickFrame,
  type KickReason,
  type KnownErrorCode,
  type ListedMessage,
  type MsgDataAckFrame,
  type MsgDataFrame,
  type MsgEditedFrame,
  type MsgReadNotifyFrame,
  type MsgRecalledFrame,
  type RemoveSessionNotifyFrame,
  type ReplyFrame,
  type RequestAction,
  type RequestMap,
  type ServerFrame,
  type SessionRef,
  type UnreadInfo,
} from './frames.js';
export { backoffDelay, type BackoffOptions, type ReconnectOptions } from './backoff.js';
export { TypedEmitter, type Listener } from './emitter.js';
export { createClientMsgId } from './ids.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export { ChatStore, type ChatStoreOptions, type NameTarget } from './store/chat-store.js';
export type {
  Attachment,
  ChatMessage,
  ChatSnapshot,
  ConnectionView,
  ConversationState,
  GroupState,
  HistoryState,
  MessagePreview,
  MessageStatus,
  SessionKind,
  SessionSummary,
  UploadState,
} from './store/model.js';
export type { KeyValueStorage } from './store/persistence.js';
