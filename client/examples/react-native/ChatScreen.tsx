/**
 * The chat screen as a React Native component: the store bound with useSyncExternalStore, a FlatList of messages
 * (pending → stored, failed with a retry), a photo from the image picker sent as a file URI with its upload progress,
 * the state kept in AsyncStorage, and a reconnect when the app comes back to the foreground. Compiled by a test
 * (test/client/examples.test.ts) against the package build; chat-screen.ts is the same logic, run by a test.
 */
import AsyncStorage from '@react-native-async-storage/async-storage';
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import { AppState, Button, FlatList, Text, TextInput, View } from 'react-native';
import { ChatClient, ChatStore, peer, type ChatMessage } from 'teamtalk-serverless-client';

export function ChatScreen(props: { userId: string; peerId: string; getToken: () => Promise<string> }) {
  const { userId, peerId, getToken } = props;
  const store = useMemo(() => {
    // client_type 18: TeamTalk's Android. React Native has a global WebSocket.
    const client = new ChatClient({ url: 'wss://chat.example.com/prod', getToken, clientType: 18 });
    return new ChatStore(client, { storage: AsyncStorage, storageKey: `chat:${userId}` });
  }, [userId, getToken]);
  const conversation = useMemo(() => peer(peerId), [peerId]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [draft, setDraft] = useState('');

  useEffect(() => {
    void store.start().then(() => store.open(conversation));
    const foreground = AppState.addEventListener('change', (state) => {
      if (state === 'active') store.client.reconnectNow();
      else void store.save();
    });
    return () => {
      foreground.remove();
      store.dispose();
      store.client.close();
    };
  }, [store, conversation]);

  const state = snapshot.conversations[`1:${peerId}`];
  const messages = state?.messages ?? [];
  useEffect(() => {
    void store.markRead(conversation).catch(() => undefined);
  }, [store, conversation, messages.length]);

  return (
    <View>
      <Text>
        {state?.title ?? peerId} · {snapshot.connection.status}
      </Text>
      <FlatList
        data={messages}
        keyExtractor={(message) => message.key}
        onEndReached={() => void store.loadOlder(conversation)}
        inverted
        renderItem={({ item }) => <MessageRow message={item} onRetry={() => store.retry(conversation, item.key)} />}
      />
      <TextInput value={draft} onChangeText={setDraft} />
      <Button
        title="Send"
        onPress={() => {
          store.send(conversation, draft);
          setDraft('');
        }}
      />
      <Button
        title="Photo"
        onPress={() => {
          // From react-native-image-picker's launchImageLibrary: a file URI and its type.
          const picked = { uri: 'file:///data/user/0/app/cache/photo.jpg', type: 'image/jpeg' };
          store.sendPicture(conversation, picked, { width: 1080, height: 1920 });
        }}
      />
    </View>
  );
}

function MessageRow(props: { message: ChatMessage; onRetry: () => void }) {
  const { message } = props;
  const upload = message.upload;
  const progress =
    upload?.state === 'uploading' && upload.total > 0 ? ` ${Math.round((100 * upload.loaded) / upload.total)}%` : '';
  return (
    <View>
      <Text>
        {message.fromMe ? 'you' : message.fromUserId}: {message.text ?? `[${message.kind}]`}
        {message.status === 'pending' ? ` sending…${progress}` : ''}
      </Text>
      {message.status === 'failed' && <Button title={`${message.error?.code}: retry`} onPress={props.onRetry} />}
    </View>
  );
}
