/** The sweeper function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { sweeperHandlerPorts, createSweeperHandler } from './handler.js';

export const handler = createSweeperHandler(sweeperHandlerPorts(adaptersFrom()));
