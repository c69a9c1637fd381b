/** The devices function's Lambda entry: its ports from the environment, built once at init. */
import { adaptersFrom } from '../../core/compose/adapters.js';
import { devicesHandlerPorts, createDevicesHandler } from './handler.js';

export const handler = createDevicesHandler(devicesHandlerPorts(adaptersFrom()));
