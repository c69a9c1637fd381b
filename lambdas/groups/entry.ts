/** The groups function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { groupsHandlerPorts, createGroupsHandler } from './handler.js';

export const handler = createGroupsHandler(groupsHandlerPorts(adaptersFrom()));
