/** The $connect/$disconnect function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { connectHandlerPorts, createConnectHandler } from './handler.js';

export const handler = createConnectHandler(connectHandlerPorts(adaptersFrom()));
