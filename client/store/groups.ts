/** The groups the store knows: names, owners, members and the member changes seen, each view rebuilt after a change. */
import type { GroupChangeType } from '../frames.js';
import type { GroupState } from './model.js';

/** Member changes kept per group, newest last. */
const MAX_CHANGES = 20;

interface Group {
  name: string | undefined;
  ownerId: string | undefined;
  memberIds: readonly string[] | undefined;
  changes: GroupState['changes'];
  view: GroupState | undefined;
}

export class GroupList {
  readonly #groups = new Map<string, Group>();
  #view: Readonly<Record<string, GroupState>> | undefined;

  has(groupId: string): boolean {
    return this.#groups.has(groupId);
  }

  name(groupId: string): string | undefined {
    return this.#groups.get(groupId)?.name;
  }

  /** Whether the name, owner and members are known. */
  known(groupId: string): boolean {
    const group = this.#groups.get(groupId);
    return group?.name !== undefined && group.ownerId !== undefined && group.memberIds !== undefined;
  }

  update(groupId: string, change: Partial<Pick<Group, 'name' | 'ownerId' | 'memberIds'>>): void {
    const group = this.#groups.get(groupId) ?? {
      name: undefined,
      ownerId: undefined,
      memberIds: undefined,
      changes: [],
      view: undefined,
    };
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined));
    Object.assign(group, defined, { view: undefined });
    this.#groups.set(groupId, group);
    this.#view = undefined;
  }

  noteChange(groupId: string, changeType: GroupChangeType, userIds: readonly string[], time: number): void {
    this.update(groupId, {});
    const group = this.#groups.get(groupId)!;
    group.changes = Object.freeze([...group.changes, Object.freeze({ changeType, userIds, time })].slice(-MAX_CHANGES));
  }

  remove(groupId: string): void {
    if (this.#groups.delete(groupId)) this.#view = undefined;
  }

  names(): Record<string, string> {
    const names: Record<string, string> = {};
    for (const [groupId, group] of this.#groups) if (group.name !== undefined) names[groupId] = group.name;
    return names;
  }

  view(): Readonly<Record<string, GroupState>> {
    if (this.#view) return this.#view;
    const view: Record<string, GroupState> = {};
    for (const [groupId, group] of this.#groups) {
      group.view ??= Object.freeze({
        groupId,
        name: group.name,
        ownerId: group.ownerId,
        memberIds: group.memberIds === undefined ? undefined : Object.freeze([...group.memberIds]),
        changes: group.changes,
      });
      view[groupId] = group.view;
    }
    this.#view = Object.freeze(view);
    return this.#view;
  }
}
