/**
 * A TCP proxy in front of a test redis-server that can lose a reply on purpose: it forwards a
 * command, lets Redis run it, then drops the connection instead of passing the reply on. That is
 * the one fault after which a client cannot know whether its command ran.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

const HOST = "127.0.0.1";

/** A proxy to `127.0.0.1:targetPort`. */
export class LossyProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #marker: string | undefined;
  #refuseAfterDrop = false;
  /** Number of replies dropped so far. */
  dropped = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Start a proxy on a free port. */
  static start(targetPort: number): Promise<LossyProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      const proxy = new LossyProxy(server);
      server.on("connection", (client) => proxy.#pipe(client, targetPort));
      server.once("error", reject);
      server.listen(0, HOST, () => resolve(proxy));
    });
  }

  /** The proxy's port. */
  get port(): number {
    const address = this.#server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /**
   * Lose the reply to the next command whose bytes contain `marker`; with `thenRefuse`, stop
   * accepting connections right then, so the client cannot resend before the test lets it.
   */
  dropReplyTo(marker: string, { thenRefuse = false } = {}): void {
    this.#marker = marker;
    this.#refuseAfterDrop = thenRefuse;
  }

  /** Connections open now (client and upstream sockets, two per connection). */
  get connections(): number {
    return Math.ceil(this.#sockets.size / 2);
  }

  /** Break every connection open now (clients see a reset and reconnect); returns how many. */
  dropConnections(): number {
    const count = this.#sockets.size;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    return Math.ceil(count / 2);
  }

  #pipe(client: Socket, targetPort: number): void {
    const upstream = createConnection({ host: HOST, port: targetPort });
    this.#sockets.add(client).add(upstream);
    let dropNextReply = false;
    client.on("data", (chunk: Uint8Array) => {
      if (this.#marker !== undefined && new TextDecoder().decode(chunk).includes(this.#marker)) {
        this.#marker = undefined;
        dropNextReply = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Uint8Array) => {
      if (dropNextReply) {
        if (this.#refuseAfterDrop) this.#server.close();
        this.dropped++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  }

  /** Close every connection and stop listening. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
