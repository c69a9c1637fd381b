/**
 * A React Native chat screen's logic on ChatStore, without React, so a test can run it (test/client/react-native.test.ts)
 * on the package build inside a context that has only the globals React Native gives every app — WebSocket, fetch,
 * XMLHttpRequest, AbortController, timers, console — and none that Hermes may lack (TextDecoder, atob, Buffer,
 * crypto, process, URL, ES2022 built-ins). ChatScreen.tsx is the same screen as a component.
 *
 * In an app: create the screen in a `useEffect`, call `render` through `setState` (or bind the store with
 * useSyncExternalStore), wire `onAppActive` to AppState's `active` and NetInfo's `isConnected`, and `signOut` to the
 * sign-out button. A photo from an image picker is a file URI (`{ uri, type }`): the SDK reads it with fetch and
 * uploads it with XMLHttpRequest, which reports progress.
 */
import {
  ChatClient,
  ChatStore,
  peer,
  type ChatClientOptions,
  type ChatMessage,
  type KeyValueStorage,
} from 'teamtalk-serverless-client';

export interface ChatScreenState {
  readonly connection: 'online' | 'connecting' | 'offline';
  /** `from: text` (`from: [picture]` for a picture), in the order shown, with each message's status. */
  readonly messages: readonly string[];
  readonly statuses: readonly ChatMessage['status'][];
  /** The newest message's upload progress, 0…1, while one uploads. */
  readonly uploading: number | undefined;
  readonly unread: number;
  /** Local notifications raised: messages from others that are new to the user, never history nor its own. */
  readonly notifications: readonly string[];
  readonly errors: readonly string[];
}

export interface ChatScreenOptions {
  readonly url: string;
  /** Fetches a JWT from the app's backend (or Cognito). */
  readonly getToken: () => Promise<string>;
  readonly peerId: string;
  /** AsyncStorage (or any getItem/setItem storage): the state a restarted app starts from. */
  readonly storage?: KeyValueStorage;
  /** Called after every change (setState in a component). */
  readonly render: (state: ChatScreenState) => void;
  /** Extra client options. */
  readonly client?: Partial<ChatClientOptions>;
}

export function createChatScreen(options: ChatScreenOptions) {
  // No WebSocket option: React Native has a global one. client_type 18: TeamTalk's Android.
  const chat = new ChatClient({ url: options.url, getToken: options.getToken, clientType: 18, ...options.client });
  const store = new ChatStore(chat, { ...(options.storage ? { storage: options.storage } : {}) });
  const conversation = peer(options.peerId);
  const notifications: string[] = [];
  const errors: string[] = [];
  const state = (): ChatScreenState => {
    const snapshot = store.getSnapshot();
    const messages = snapshot.conversations[`1:${options.peerId}`]?.messages ?? [];
    const upload = messages[messages.length - 1]?.upload;
    return {
      connection: snapshot.connection.status,
      messages: messages.map((m) => `${m.fromUserId}: ${m.text ?? `[${m.kind}]`}`),
      statuses: messages.map((m) => m.status),
      uploading: upload?.state === 'uploading' && upload.total > 0 ? upload.loaded / upload.total : undefined,
      unread: snapshot.unreadTotal,
      notifications,
      errors,
    };
  };
  const render = () => options.render(state());
  store.subscribe(render);
  chat.on('message', (m) => {
    if (!m.own && m.source !== 'history') notifications.push(`${m.from_user_id} wrote`);
  });
  chat.on('error', (error) => {
    errors.push(`${error.name}: ${error.message}`);
    render();
  });
  return {
    state,
    store,
    start: async () => {
      await store.start();
      await store.open(conversation);
    },
    send: (text: string) => store.send(conversation, text),
    /** A photo from the image picker. */
    sendPhoto: (uri: string, width: number, height: number) =>
      store.sendPicture(conversation, { uri, type: 'image/jpeg' }, { width, height }),
    /** The screen is visible: what it shows is read. */
    markRead: () => store.markRead(conversation),
    /** AppState 'active' or NetInfo back online: reconnect now rather than after the backoff. */
    onAppActive: () => chat.reconnectNow(),
    signOut: () => chat.signOut(),
  };
}
