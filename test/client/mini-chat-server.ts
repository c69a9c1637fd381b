/**
 * A tiny in-memory stand-in for the local emulator, for the page's browser test: serves the page (`/`, `/app.js`),
 * a token endpoint (`/local/token?user_id=`, token = `tok-<user>`) and, on the same port, a WebSocket speaking the
 * contract's single-chat subset: msg_data (ack to the sender, msg_data to the sender's other connections and the
 * receiver's), msg_data_ack, msg_list, heartbeat, and the errors self_message / empty_message / unknown_action.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

interface Stored {
  readonly msg_id: number;
  readonly from_user_id: string;
  readonly to_session_id: string;
  readonly create_time: number;
  readonly msg_type: number;
  readonly msg_data: string;
  readonly client_msg_id?: string;
}

export class MiniChatServer {
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #users = new Map<WebSocket, string>();
  readonly #relations = new Map<string, Stored[]>();
  /** msg_data_ack frames received, as `user:msg_id`. */
  readonly deliveryAcks: string[] = [];

  private constructor(http: Server, wss: WebSocketServer) {
    this.#http = http;
    this.#wss = wss;
    wss.on('connection', (socket, request) => {
      const user = (new URL(request.url ?? '/', 'http://x').searchParams.get('token') ?? '').slice('tok-'.length);
      this.#users.set(socket, user);
      socket.on('close', () => this.#users.delete(socket));
      socket.on('message', (data) => this.#onFrame(socket, user, data.toString()));
    });
  }

  static async start(page: { html: string; js: string }): Promise<MiniChatServer> {
    const http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page.html);
      } else if (url.pathname === '/app.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(page.js);
      } else if (url.pathname === '/local/token') {
        const user = url.searchParams.get('user_id') ?? '';
        if (!/^[A-Za-z0-9_.@-]{1,128}$/.test(user)) {
          res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'bad user_id' }));
        } else {
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `tok-${user}` }));
        }
      } else {
        res.writeHead(404).end();
      }
    });
    const wss = new WebSocketServer({
      server: http,
      verifyClient: (info, callback) => {
        const token = new URL(info.req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
        if (token.startsWith('tok-')) callback(true);
        else callback(false, 401, 'Unauthorized');
      },
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new MiniChatServer(http, wss);
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  /** Drops every connection of `user` without a close handshake. */
  dropUser(user: string): void {
    for (const [socket, owner] of this.#users) if (owner === user) socket.terminate();
  }

  async close(): Promise<void> {
    for (const socket of this.#wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #onFrame(socket: WebSocket, user: string, text: string): void {
    const frame = JSON.parse(text) as Record<string, unknown>;
    const seq = frame['seq'];
    const reply = (body: Record<string, unknown>) => socket.send(JSON.stringify({ ...body, seq }));
    switch (frame['action']) {
      case 'msg_data': {
        const to = String(frame['to_session_id']);
        const body = String(frame['msg_data'] ?? '');
        if (to === user) return reply({ type: 'error', code: 'self_message', message: 'single chat to oneself' });
        if (body === '') return reply({ type: 'error', code: 'empty_message', message: 'empty' });
        const relation = this.#relation(user, to);
        const clientMsgId = typeof frame['client_msg_id'] === 'string' ? frame['client_msg_id'] : undefined;
        let stored = clientMsgId ? relation.find((m) => m.from_user_id === user && m.client_msg_id === clientMsgId) : undefined;
        if (!stored) {
          stored = {
            msg_id: relation.length + 1,
            from_user_id: user,
            to_session_id: to,
            create_time: Math.floor(Date.now() / 1000),
            msg_type: Number(frame['msg_type'] ?? 1),
            msg_data: body,
            ...(clientMsgId ? { client_msg_id: clientMsgId } : {}),
          };
          relation.push(stored);
          for (const [other, owner] of this.#users) {
            if (other !== socket && (owner === user || owner === to)) other.send(JSON.stringify({ type: 'msg_data', ...stored }));
          }
        }
        return reply({
          type: 'msg_data_ack',
          user_id: user,
          session_id: to,
          msg_id: stored.msg_id,
          session_type: 1,
          create_time: stored.create_time,
          ...(clientMsgId ? { client_msg_id: clientMsgId } : {}),
        });
      }
      case 'msg_data_ack':
        this.deliveryAcks.push(`${user}:${String(frame['msg_id'])}`);
        return;
      case 'msg_list': {
        const relation = this.#relation(user, String(frame['session_id']));
        const msgList = [...relation]
          .reverse()
          .slice(0, Number(frame['msg_cnt'] ?? 20))
          .map(({ msg_id, from_user_id, create_time, msg_type, msg_data }) => ({ msg_id, from_user_id, create_time, msg_type, msg_data }));
        return reply({ type: 'msg_list', session_id: frame['session_id'], session_type: 1, msg_id_begin: 0, msg_list: msgList });
      }
      case 'heartbeat':
        return reply({ type: 'heartbeat' });
      default:
        return reply({ type: 'error', code: 'unknown_action', message: String(frame['action']) });
    }
  }

  #relation(a: string, b: string): Stored[] {
    const key = [a, b].sort().join('\u0000');
    let relation = this.#relations.get(key);
    if (!relation) {
      relation = [];
      this.#relations.set(key, relation);
    }
    return relation;
  }
}
