/** The wire protocol shared by the server (core/) and the client SDK (client/): frame types, codes and limits. */
export * from './frames.js';
export * from './limits.js';
export * from './attachments.js';
