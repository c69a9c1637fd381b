/**
 * A React app on ChatStore: hooks over `subscribe`/`getSnapshot` (useSyncExternalStore), a session list with unread
 * badges, a conversation that loads older pages on demand, shows its own messages pending → stored (or failed, with
 * a retry), marks what it shows read and says when the peer read it. Compiled against the package build by a test
 * (test/client/examples.test.ts).
 */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import {
  ChatClient,
  ChatStore,
  type ChatMessage,
  type ChatSnapshot,
  type Conversation,
  type SessionSummary,
} from 'teamtalk-serverless-client';

/** One store for the signed-in user; `start()` restores the saved state (localStorage) and connects. */
export function createStore(userId: string, getToken: () => Promise<string>): ChatStore {
  const client = new ChatClient({ url: 'wss://chat.example.com/prod', getToken });
  return new ChatStore(client, { storage: localStorage, storageKey: `chat:${userId}` });
}

/** The store's snapshot, re-rendering on change (and only then: unchanged parts keep their identity). */
export function useChat(store: ChatStore): ChatSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}

export function SessionList(props: { store: ChatStore; onOpen: (conversation: Conversation) => void }) {
  const { sessions, unreadTotal, connection } = useChat(props.store);
  return (
    <nav>
      <h2>
        Chats {unreadTotal > 0 && <span className="badge">{unreadTotal}</span>}
        <small>{connection.status}</small>
      </h2>
      <ul>
        {sessions.map((session) => (
          <SessionRow key={session.key} session={session} onOpen={props.onOpen} />
        ))}
      </ul>
    </nav>
  );
}

function SessionRow(props: { session: SessionSummary; onOpen: (conversation: Conversation) => void }) {
  const { session } = props;
  const latest = session.latestMessage;
  const preview = latest?.attachment ? `[${latest.attachment.kind}]` : (latest?.text ?? '');
  return (
    <li>
      <button type="button" onClick={() => props.onOpen(session.conversation)}>
        {session.title} {session.unreadCount > 0 && <b>{session.unreadCount}</b>}
        <span>{latest?.fromMe ? `you: ${preview}` : preview}</span>
      </button>
    </li>
  );
}

export function ConversationView(props: { store: ChatStore; conversation: Conversation }) {
  const { store, conversation } = props;
  const snapshot = useChat(store);
  const key = useMemo(() => `${conversation.type === 'group' ? 2 : 1}:${conversation.id}`, [conversation]);
  const state = snapshot.conversations[key];
  const [draft, setDraft] = useState('');

  useEffect(() => {
    void store.open(conversation);
  }, [store, conversation]);
  // What is shown is read: one msg_read_ack when something new arrived.
  const newest = state?.messages.at(-1)?.msgId;
  useEffect(() => {
    if (newest !== undefined && document.visibilityState === 'visible')
      void store.markRead(conversation).catch(() => undefined);
  }, [store, conversation, newest]);

  if (!state) return <p>Loading…</p>;
  return (
    <section>
      <h2>{state.title}</h2>
      {state.history.hasMore && (
        <button type="button" disabled={state.history.loading} onClick={() => void store.loadOlder(conversation)}>
          Older messages
        </button>
      )}
      <ol>
        {state.messages.map((message) => (
          <MessageRow
            key={message.key}
            message={message}
            readByPeer={message.msgId !== undefined && message.msgId <= state.peerReadUpTo}
            onRetry={() => store.retry(conversation, message.key)}
          />
        ))}
      </ol>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (draft.trim() === '') return;
          store.send(conversation, draft);
          setDraft('');
        }}
      >
        <input value={draft} onChange={(event) => setDraft(event.target.value)} />
        <input
          type="file"
          accept="image/*"
          onChange={(event) => {
            const file = event.target.files?.[0];
            if (file) store.sendPicture(conversation, file);
          }}
        />
      </form>
    </section>
  );
}

function MessageRow(props: { message: ChatMessage; readByPeer: boolean; onRetry: () => void }) {
  const { message } = props;
  const body = message.attachment
    ? message.attachment.kind === 'picture'
      ? `[picture ${message.attachment.width ?? '?'}×${message.attachment.height ?? '?'}]`
      : `[voice note ${message.attachment.duration} s]`
    : (message.text ?? '[audio]');
  const upload =
    message.upload?.state === 'uploading'
      ? ` ${Math.round((100 * message.upload.loaded) / Math.max(1, message.upload.total))}%`
      : '';
  return (
    <li data-status={message.status}>
      <b>{message.fromMe ? 'you' : message.fromUserId}</b> {body}
      {message.status === 'pending' && <small> sending…{upload}</small>}
      {message.status === 'stored' && message.fromMe && props.readByPeer && <small> read</small>}
      {message.status === 'failed' && (
        <button type="button" onClick={props.onRetry}>
          {message.error?.code}: retry
        </button>
      )}
    </li>
  );
}
