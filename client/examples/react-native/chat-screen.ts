/**
 * A minimal React Native-style app on the SDK: what a chat screen does in its effects, without React, so a test can
 * run it (test/client/react-native.test.ts) on the package build inside a context that has only the globals React
 * Native gives every app — WebSocket, timers, console — and none that Hermes may lack (TextDecoder, atob, Buffer,
 * crypto, process, URL).
 *
 * In an app: create the screen in a `useEffect`, call `render` through `setState`, wire `onAppActive` to AppState's
 * `active` and NetInfo's `isConnected`, and `signOut` to the sign-out button.
 */
import { ChatClient, peer, type ChatClientOptions, type ConnectionState } from 'teamtalk-serverless-client';

export interface ChatScreenState {
  connection: ConnectionState;
  /** `from: text`, in the order shown. */
  readonly messages: string[];
  /** Local notifications raised: live messages from others only, never history a catch-up brought. */
  readonly notifications: string[];
  /** Completed catch-ups. */
  syncs: number;
  readonly errors: string[];
}

export interface ChatScreenOptions {
  readonly url: string;
  /** Fetches a JWT from the app's backend (or Cognito). */
  readonly getToken: () => Promise<string>;
  readonly peerId: string;
  /** Called after every change (setState in a component). */
  readonly render: (state: ChatScreenState) => void;
  /** Extra client options (e.g. a saved syncState from AsyncStorage). */
  readonly client?: Partial<ChatClientOptions>;
}

export function createChatScreen(options: ChatScreenOptions) {
  const state: ChatScreenState = { connection: 'initialized', messages: [], notifications: [], syncs: 0, errors: [] };
  const render = () => options.render(state);
  // No WebSocket option: React Native has a global one. client_type 18: TeamTalk's Android.
  const chat = new ChatClient({ url: options.url, getToken: options.getToken, clientType: 18, ...options.client });
  chat.on('state', (connection) => {
    state.connection = connection;
    render();
  });
  chat.on('message', (message) => {
    state.messages.push(`${message.from_user_id}: ${message.msg_data}`);
    if (message.live && message.from_user_id !== chat.userId) state.notifications.push(`${message.from_user_id} wrote`);
    render();
  });
  chat.on('synced', () => {
    state.syncs += 1;
    render();
  });
  chat.on('error', (error) => {
    state.errors.push(`${error.name}: ${error.message}`);
    render();
  });
  return {
    state,
    start: () => chat.connect(),
    send: (text: string) => chat.send({ to: peer(options.peerId), msgData: text }),
    /** AppState 'active' or NetInfo back online: reconnect now rather than after the backoff. */
    onAppActive: () => chat.reconnectNow(),
    signOut: () => chat.signOut(),
    /** To keep in AsyncStorage and pass back as `syncState`. */
    syncState: () => chat.getSyncState(),
  };
}
