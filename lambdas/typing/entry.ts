/** The typing function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { createTypingHandler, typingHandlerPorts } from './handler.js';

export const handler = createTypingHandler(typingHandlerPorts(adaptersFrom()));
