/**
 * The local chat page: log in as a user (a dev token from GET /local/token?user_id=), see your conversations with
 * unread badges, open one to read its history (scrolling to the top loads older pages) and chat, see when the peer
 * has read your messages, remove a conversation; create groups, chat in them, see and change their members, leave
 * them; see kicks, rate limits and caps in a banner. Built on the SDK package's build (`teamtalk-serverless-client`),
 * bundled for the browser by build.ts. Its state is the SDK's ChatStore, kept in localStorage per user, so a
 * reloaded page shows its conversations at once and catches up from where it was.
 *
 * Modules: state.ts (the user, the store, the open conversation), actions.ts (what it does), render.ts (drawing from
 * the store's snapshot), dom.ts (elements); this file wires the DOM's events to the actions.
 *
 * Stable hooks for browser tests: #user-id, #peer-id, #login, #logout, #delete-account, #status[data-state], #banner[data-kind]
 * (too_many_connections | token_expired | suspended | account_deleted | rate_limited | limit_exceeded), #message-input, #send,
 * #messages[data-history] (more | loading | start)[data-session-type] > li[data-msg-id][data-state]
 * [data-client-msg-id][data-from][data-own][data-read][data-error-code], #notice, #load-older, #remove-session,
 * #unread-total[data-unread], #sessions > li[data-session-id][data-session-type][data-unread][data-selected] > button
 * (opens the conversation); groups: #group-form, #group-name, #group-members, #create-group, #group-panel[data-group-id]
 * [data-owner], #group-member-list > li[data-user-id][data-owner], #group-add-member, #add-member, #leave-group,
 * #group-events > li[data-change-type][data-user-ids]; blocks (blocks.ts): #block-user[data-blocked], li[data-blocked-sender];
 * presence (presence.ts): #peer-presence[data-presence], .presence-dot[data-presence];
 * reporting and export: safety.ts.
 * reporting and export: safety.ts; typing: typing.ts (#typing[data-user-ids]).
 * `?user=alice&peer=bob` (or `&group=<group id>`) in the page URL fills the form and connects; `&ws=<url>` connects
 * to another WebSocket URL.
 */
import { group, isUserId, peer } from 'teamtalk-serverless-client';
import {
  changeMembers,
  createGroup,
  leaveCurrentGroup,
  loadOlder,
  logIn,
  logOut,
  markConversationRead,
  parseUserIds,
  redraw,
  redrawSessions,
  removeCurrentSession,
  saveNow,
  selectConversation,
  sendMessage,
} from './actions.js';
import { deleteAccount } from './account.js';
import { wireAttachments } from './attachments.js';
import { wireBlocks } from './blocks.js';
import { wirePresence } from './presence.js';
import { wireEdits } from './edits.js';
import { wireSafety } from './safety.js';
import { wireTyping } from './typing.js';
import { ui } from './dom.js';
import { showNotice, showStatus } from './render.js';
import { page } from './state.js';

function onLoginSubmit(event: SubmitEvent): void {
  event.preventDefault();
  const userId = ui.userId.value.trim();
  if (!isUserId(userId)) {
    showStatus({ state: 'closed' }, 'user id must be 1–128 characters of A-Z a-z 0-9 _ . @ -');
    return;
  }
  const typedPeer = ui.peerId.value.trim();
  if (isUserId(typedPeer)) page.current = peer(typedPeer);
  else if (page.current?.type !== 'group') page.current = undefined;
  void logIn(userId);
  redraw();
}

function onPeerChange(): void {
  const value = ui.peerId.value.trim();
  if (value === '') {
    if (page.current?.type !== 'group') selectConversation(undefined);
  } else if (isUserId(value)) selectConversation(peer(value));
}

function onGroupSubmit(event: SubmitEvent): void {
  event.preventDefault();
  const name = ui.groupName.value.trim();
  const memberIds = parseUserIds(ui.groupMembers.value).filter((id) => id !== page.me);
  const invalid = memberIds.filter((id) => !isUserId(id));
  if (name === '' || invalid.length > 0)
    showNotice(name === '' ? 'Give the group a name.' : `Not a user id: ${invalid.join(', ')}`);
  else void createGroup(name, memberIds);
}

function onAddMemberSubmit(event: SubmitEvent): void {
  event.preventDefault();
  const conversation = page.current;
  if (conversation?.type !== 'group') return;
  const ids = parseUserIds(ui.groupAddMember.value);
  const invalid = ids.filter((id) => !isUserId(id));
  if (invalid.length > 0) {
    showNotice(`Not a user id: ${invalid.join(', ')}`);
    return;
  }
  ui.groupAddMember.value = '';
  void changeMembers(conversation.id, 'add', ids);
}

function onComposerSubmit(event: SubmitEvent): void {
  event.preventDefault();
  // A peer typed but not yet committed (no change event) still counts.
  const typedPeer = ui.peerId.value.trim();
  if (isUserId(typedPeer) && (page.current?.type === 'group' || page.current?.id !== typedPeer))
    selectConversation(peer(typedPeer));
  const text = ui.input.value;
  if (text.trim() === '') return;
  if (!page.current) {
    showNotice('Enter who to chat with first, or pick a group.');
    ui.peerId.focus();
    return;
  }
  sendMessage(text);
  ui.input.value = '';
  ui.input.focus();
}

function wire(): void {
  ui.loginForm.addEventListener('submit', onLoginSubmit);
  ui.logout.addEventListener('click', logOut);
  ui.deleteAccount.addEventListener('click', () => void deleteAccount());
  ui.peerId.addEventListener('change', onPeerChange);
  ui.groupForm.addEventListener('submit', onGroupSubmit);
  ui.groupAddForm.addEventListener('submit', onAddMemberSubmit);
  ui.leaveGroup.addEventListener('click', () => void leaveCurrentGroup());
  ui.messages.addEventListener('scroll', () => {
    if (ui.messages.scrollTop < 24) void loadOlder();
  });
  ui.loadOlder.addEventListener('click', () => void loadOlder());
  ui.removeSession.addEventListener('click', () => void removeCurrentSession());
  ui.composer.addEventListener('submit', onComposerSubmit);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && page.current) void markConversationRead(page.current);
  });
  window.addEventListener('pagehide', saveNow);
}

/** `?user=…&peer=…` or `&group=…` fills the form and signs in. */
function startFromUrl(): void {
  const params = new URLSearchParams(location.search);
  const presetPeer = params.get('peer');
  const presetGroup = params.get('group');
  if (presetPeer) ui.peerId.value = presetPeer;
  else if (presetGroup) page.current = group(presetGroup);
  const presetUser = params.get('user');
  if (presetUser) {
    ui.userId.value = presetUser;
    ui.loginForm.requestSubmit();
  }
}

wire();
wireAttachments();
wireBlocks(redraw, (error) =>
  showNotice(`Could not change the block: ${error instanceof Error ? error.message : String(error)}`),
);
wireSafety();
wirePresence();
wireEdits((error) =>
  showNotice(`Could not change the message: ${error instanceof Error ? error.message : String(error)}`),
);
wireTyping();
startFromUrl();
redraw();
redrawSessions();
