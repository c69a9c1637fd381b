/**
 * The emulator's listening socket. Plain HTTP always; with a certificate, TLS on the same port too: the first byte
 * of a connection tells a TLS ClientHello (0x16) from an HTTP request line, so `ws://` and `wss://`, `http://` and
 * `https://` all reach the one server. That lets a handler build its callback URL as AWS's samples do,
 * `https://${domainName}/${stage}`, and reach the emulator's @connections API (the handler's runtime trusts the
 * certificate; see cdk-app/).
 */
import type { Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';

export interface TlsCertificate {
  /** PEM private key. */
  readonly key: string;
  /** PEM certificate (self-signed for 127.0.0.1 and localhost). */
  readonly cert: string;
}

const TLS_HANDSHAKE = 0x16;

export interface Listener {
  /** The server to listen on: the HTTP server itself, or a front that hands each connection over. */
  readonly server: Server | NetServer;
  /** Ends every connection, those still before their first byte included. */
  destroyAll(): void;
}

/** The HTTP server as is, or behind a front that tells TLS from plain HTTP and decrypts TLS. */
export function listeningServer(http: Server, tls: TlsCertificate | undefined): Listener {
  if (!tls) return { server: http, destroyAll: () => http.closeAllConnections() };
  const context = createSecureContext({ key: tls.key, cert: tls.cert });
  const undecided = new Set<Socket>();
  const server = createNetServer((socket: Socket) => {
    socket.on('error', () => undefined);
    undecided.add(socket);
    socket.once('close', () => undecided.delete(socket));
    socket.once('data', (first: Buffer) => {
      undecided.delete(socket);
      socket.pause();
      socket.unshift(first);
      if (first[0] !== TLS_HANDSHAKE) {
        http.emit('connection', socket);
        socket.resume();
        return;
      }
      const tlsSocket = new TLSSocket(streamOf(socket), { isServer: true, secureContext: context });
      tlsSocket.on('error', () => undefined);
      http.emit('connection', tlsSocket);
    });
  });
  return {
    server,
    destroyAll: () => {
      for (const socket of undecided) socket.destroy();
      http.closeAllConnections();
    },
  };
}

/**
 * The socket as a plain stream. TLS over the socket itself would read its native handle and miss the ClientHello
 * bytes already read to tell TLS from HTTP; over a stream it reads them back in order.
 */
function streamOf(socket: Socket): Duplex {
  const stream: Duplex = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, callback) => void socket.write(chunk, callback),
    final: (callback) => void socket.end(callback),
    destroy: (error, callback) => {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}
