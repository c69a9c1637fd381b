/** The ack function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { ackHandlerPorts, createAckHandler } from './handler.js';

export const handler = createAckHandler(ackHandlerPorts(adaptersFrom()));
