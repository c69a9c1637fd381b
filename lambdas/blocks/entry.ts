/** The blocks function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { blocksHandlerPorts, createBlocksHandler } from './handler.js';

export const handler = createBlocksHandler(blocksHandlerPorts(adaptersFrom()));
