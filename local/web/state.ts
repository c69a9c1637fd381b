/**
 * What the chat page itself knows: the signed-in user, the ChatStore that holds everything of theirs (messages,
 * sessions, unread counts, read receipts, groups: client/store/), and which conversation is open. Actions change it;
 * render functions read it and the store's snapshot. Nothing here touches the DOM or the network.
 */
import { conversationKey, type ChatClient, type ChatStore, type Conversation } from 'teamtalk-serverless-client';

export class PageState {
  store: ChatStore | undefined;
  /** The signed-in user; '' when signed out. */
  me = '';
  /** The open conversation. */
  current: Conversation | undefined;

  get client(): ChatClient | undefined {
    return this.store?.client;
  }

  /** Forgets the signed-in user (the caller closes the client). */
  reset(): void {
    this.store = undefined;
    this.me = '';
  }

  isOpen(conversation: Conversation): boolean {
    return this.current !== undefined && conversationKey(this.current) === conversationKey(conversation);
  }
}

/** The page's one state. */
export const page = new PageState();
