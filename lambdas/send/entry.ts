/** The send function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { sendHandlerPorts, createSendHandler } from './handler.js';

export const handler = createSendHandler(sendHandlerPorts(adaptersFrom()));
