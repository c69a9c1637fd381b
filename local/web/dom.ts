/** The page's elements, looked up once by id (index.html). */

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

export const ui = {
  loginForm: byId<HTMLFormElement>('login-form'),
  userId: byId<HTMLInputElement>('user-id'),
  peerId: byId<HTMLInputElement>('peer-id'),
  login: byId<HTMLButtonElement>('login'),
  logout: byId<HTMLButtonElement>('logout'),
  deleteAccount: byId<HTMLButtonElement>('delete-account'),
  status: byId<HTMLElement>('status'),
  banner: byId<HTMLElement>('banner'),
  groupForm: byId<HTMLFormElement>('group-form'),
  groupName: byId<HTMLInputElement>('group-name'),
  groupMembers: byId<HTMLInputElement>('group-members'),
  createGroup: byId<HTMLButtonElement>('create-group'),
  sessions: byId<HTMLUListElement>('sessions'),
  sessionsEmpty: byId<HTMLElement>('sessions-empty'),
  unreadTotal: byId<HTMLElement>('unread-total'),
  conversation: byId<HTMLElement>('conversation'),
  removeSession: byId<HTMLButtonElement>('remove-session'),
  groupPanel: byId<HTMLElement>('group-panel'),
  groupMemberList: byId<HTMLUListElement>('group-member-list'),
  groupAddForm: byId<HTMLFormElement>('group-add-form'),
  groupAddMember: byId<HTMLInputElement>('group-add-member'),
  addMember: byId<HTMLButtonElement>('add-member'),
  leaveGroup: byId<HTMLButtonElement>('leave-group'),
  groupEvents: byId<HTMLOListElement>('group-events'),
  notice: byId<HTMLElement>('notice'),
  loadOlder: byId<HTMLButtonElement>('load-older'),
  messages: byId<HTMLOListElement>('messages'),
  composer: byId<HTMLFormElement>('composer'),
  input: byId<HTMLInputElement>('message-input'),
  send: byId<HTMLButtonElement>('send'),
};
