/** The account function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { accountHandlerPorts, createAccountHandler } from './handler.js';

export const handler = createAccountHandler(accountHandlerPorts(adaptersFrom()));
