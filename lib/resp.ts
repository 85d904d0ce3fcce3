/**
 * ecl's small Redis client for the CLI's commands: RESP2 over Deno's own TCP and TLS sockets, a
 * plain server only (Sentinel and Cluster keep node-redis). It loads in a fraction of node-redis's
 * time and memory. Deno only: the library never loads it.
 *
 * It connects when asked to (AUTH and SELECT as configured) and pipelines commands on one socket.
 * When an open connection breaks, it fails the commands in flight and, like node-redis, reconnects
 * in the background with backoff when the store asked for reconnection (holding new commands
 * meanwhile when it asked for an offline queue, else failing them); without reconnection the next
 * command tries one new connection.
 * @module
 */
import type { RedisConfig } from "./config.ts";
import {
  CONNECT_TIMEOUT_MS,
  type Connection,
  type ConnectionOptions,
  NotSentError,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  ReplyError,
  setConnectionFactory,
  type TlsPems,
} from "./connection.ts";
import { backoffMs } from "./_timer.ts";

/** Route the connections of every store made from now on through this client, where it can. */
export function useRespConnections(): void {
  setConnectionFactory((config, options, tls) =>
    config.sentinel !== undefined || config.cluster !== undefined ||
      // Deno's TLS cannot skip verification per connection: node-redis can.
      config.tls?.rejectUnauthorized === false
      ? undefined
      : new RespConnection(config, options, tls)
  );
}

/** A reply: string, integer, `null`, or an array of replies. */
export type Reply = string | number | null | Reply[];

type Listener = (...args: never[]) => void;

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;

/** Encode a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): Uint8Array {
  let text = `*${args.length}\r\n`;
  const parts: Uint8Array[] = [];
  for (const arg of args) {
    const bytes = encoder.encode(arg);
    parts.push(encoder.encode(`${text}$${bytes.length}\r\n`), bytes);
    text = "\r\n";
  }
  parts.push(encoder.encode(text));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** No complete reply in the buffer yet. */
const INCOMPLETE = Symbol("incomplete");

/**
 * Parse one reply from `buffer` at `offset`: the reply (an error reply as a {@link ReplyError}) and
 * the offset after it, or {@link INCOMPLETE}.
 */
export function parseReply(
  buffer: Uint8Array,
  offset: number,
): [Reply | ReplyError, number] | typeof INCOMPLETE {
  const lineEnd = buffer.indexOf(CR, offset);
  if (lineEnd < 0 || lineEnd + 1 >= buffer.length) return INCOMPLETE;
  const type = buffer[offset];
  const line = decoder.decode(buffer.subarray(offset + 1, lineEnd));
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new ReplyError(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: { // $
      const length = Number(line);
      if (length < 0) return [null, next];
      if (next + length + 2 > buffer.length) return INCOMPLETE;
      return [decoder.decode(buffer.subarray(next, next + length)), next + length + 2];
    }
    case 0x2a: { // *
      const length = Number(line);
      if (length < 0) return [null, next];
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < length; i++) {
        const item = parseReply(buffer, at);
        if (item === INCOMPLETE) return INCOMPLETE;
        // An error inside an array (a script's error_reply) stays an error object in the array.
        items.push(item[0] as Reply);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`Protocol error: unexpected reply type ${JSON.stringify(line)}`);
  }
}

/** Why a connection attempt failed, in the words node-redis would use. */
function connectError(error: unknown, host: string, port: number): Error {
  const address = `${host}:${port}`;
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new Error(`connect ECONNREFUSED ${address}`, { cause: error });
  }
  if (error instanceof Deno.errors.ConnectionReset) {
    return new Error(`read ECONNRESET ${address}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** One connection to a plain Redis server (TCP or TLS). */
class RespConnection implements Connection {
  readonly #config: RedisConfig;
  readonly #options: ConnectionOptions;
  readonly #tls: TlsPems | undefined;
  readonly #listeners = { error: new Set<Listener>(), ready: new Set<Listener>() };
  #socket: Deno.Conn | undefined;
  #opening: Promise<void> | undefined;
  /** Background reconnection after a break (reconnecting stores only). */
  #reconnecting: Promise<void> | undefined;
  #backoff: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  #ready = false;
  #closed = false;
  /** Commands sent and not answered yet, oldest first. */
  #pending: Pending[] = [];
  #writing: Promise<void> = Promise.resolve();
  /** Resolves when the last pending reply arrived (close() waits for it). */
  #drained: (() => void) | undefined;

  constructor(config: RedisConfig, options: ConnectionOptions, tls: TlsPems | undefined) {
    this.#config = config;
    this.#options = options;
    this.#tls = tls;
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get isOpen(): boolean {
    return this.#socket !== undefined || this.#opening !== undefined ||
      this.#reconnecting !== undefined;
  }

  on(event: "error" | "ready", listener: Listener): unknown {
    this.#listeners[event].add(listener);
    return this;
  }

  off(event: "error" | "ready", listener: Listener): unknown {
    this.#listeners[event].delete(listener);
    return this;
  }

  #emit(event: "error" | "ready", ...args: unknown[]): void {
    for (const listener of [...this.#listeners[event]]) {
      (listener as (...a: unknown[]) => void)(...args);
    }
  }

  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new NotSentError("The client is closed"));
    if (this.#ready) return Promise.resolve();
    this.#opening ??= this.#open().then(
      () => {
        this.#opening = undefined;
        this.#ready = true;
        this.#emit("ready");
      },
      (error: Error) => {
        this.#opening = undefined;
        this.#emit("error", error);
        throw error;
      },
    );
    return this.#opening;
  }

  async #open(): Promise<void> {
    const { host, port } = this.#config;
    const connecting = this.#tls === undefined
      ? Deno.connect({ hostname: host, port })
      : Deno.connectTls({
        hostname: host,
        port,
        caCerts: this.#tls.ca === undefined ? undefined : [this.#tls.ca],
        ...(this.#tls.cert === undefined || this.#tls.key === undefined
          ? {}
          : { cert: this.#tls.cert, key: this.#tls.key }),
      });
    // TLS: the handshake (and the certificate check) is part of connecting.
    const opened = connecting.then(async (socket) => {
      if ("handshake" in socket) await (socket as Deno.TlsConn).handshake();
      return socket;
    });
    let socket: Deno.Conn;
    try {
      socket = await Promise.race([
        opened,
        // (Not setTimeout: in Deno it loads the Node timers and their compatibility layer.)
        new Promise<never>((_, reject) => {
          const timeout = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
          timeout.onabort = () => reject(new Error("Connection timeout"));
          opened.then(() => timeout.onabort = null, () => timeout.onabort = null);
        }),
      ]);
    } catch (error) {
      connecting.then((late) => {
        try {
          late.close();
        } catch {
          // Closed by the failed handshake.
        }
      }, () => {});
      throw connectError(error, host, port);
    }
    // Like node-redis: notice a peer that vanished without closing the connection.
    if ("setKeepAlive" in socket) (socket as Deno.TcpConn).setKeepAlive(true);
    this.#socket = socket;
    this.#read(socket);
    try {
      const { username, password, db } = this.#config;
      const handshake: Promise<Reply>[] = [];
      if (password !== undefined) {
        handshake.push(
          this.#send(username === undefined ? ["AUTH", password] : ["AUTH", username, password]),
        );
      }
      if (db !== 0) handshake.push(this.#send(["SELECT", String(db)]));
      await Promise.all(handshake);
    } catch (error) {
      // connect() reports it.
      this.#drop(socket, error as Error, false);
      throw error;
    }
  }

  /** Read replies from `socket` until it closes; they answer the pending commands in order. */
  async #read(socket: Deno.Conn): Promise<void> {
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const read = await socket.read(chunk);
        if (read === null) throw new Error("Socket closed unexpectedly");
        const joined = new Uint8Array(buffer.length + read);
        joined.set(buffer);
        joined.set(chunk.subarray(0, read), buffer.length);
        buffer = joined;
        let offset = 0;
        for (;;) {
          const parsed = parseReply(buffer, offset);
          if (parsed === INCOMPLETE) break;
          offset = parsed[1];
          const pending = this.#pending.shift();
          if (pending === undefined) throw new Error("Protocol error: a reply nobody asked for");
          if (parsed[0] instanceof ReplyError) pending.reject(parsed[0]);
          else pending.resolve(parsed[0]);
        }
        buffer = buffer.subarray(offset);
        if (this.#pending.length === 0) this.#drained?.();
      }
    } catch (error) {
      if (this.#socket === socket) {
        this.#drop(socket, connectError(error, this.#config.host, this.#config.port));
      }
    }
  }

  /** The connection broke (or is given up): fail what waits for it and tell the listeners. */
  #drop(socket: Deno.Conn, error: Error, report = true): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#ready = false;
    try {
      socket.close();
    } catch {
      // Closed already.
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const command of pending) command.reject(error);
    this.#drained?.();
    if (report && !this.#closed) {
      this.#emit("error", error);
      if (this.#options.reconnect) this.#reconnecting ??= this.#reconnect();
    }
  }

  /** Reconnect with backoff until connected or closed; "error" for each failed attempt. */
  async #reconnect(): Promise<void> {
    try {
      for (let attempt = 0; !this.#closed; attempt++) {
        await new Promise<void>((wake) => {
          const timer = setTimeout(() => {
            this.#backoff = undefined;
            wake();
          }, backoffMs(attempt, RECONNECT_MIN_MS, RECONNECT_MAX_MS));
          this.#backoff = { timer, wake };
        });
        if (this.#closed) return;
        try {
          await this.connect();
          return;
        } catch {
          // Reported by connect(); try again.
        }
      }
    } finally {
      this.#reconnecting = undefined;
    }
  }

  /** Send one command on the open socket; its reply in order. */
  #send(args: readonly string[]): Promise<Reply> {
    const socket = this.#socket;
    if (socket === undefined) return Promise.reject(new NotSentError("The client is offline"));
    const bytes = encodeCommand(args);
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#writing = this.#writing.then(async () => {
        let rest = bytes;
        try {
          while (rest.length > 0) rest = rest.subarray(await socket.write(rest));
        } catch (error) {
          this.#drop(socket, connectError(error, this.#config.host, this.#config.port));
        }
      });
    });
  }

  /** Send a command, connecting first when the connection is not (or no longer) open. */
  async #command(args: readonly string[]): Promise<Reply> {
    if (this.#closed) throw new NotSentError("The client is closed");
    if (this.#reconnecting !== undefined) {
      if (!this.#options.offlineQueue) throw new NotSentError("The client is offline");
      // The offline queue: wait for the reconnection (or for close()).
      await this.#reconnecting;
      if (this.#closed) throw new NotSentError("The client is closed");
    }
    if (!this.#ready) {
      try {
        await this.connect();
      } catch (error) {
        throw new NotSentError((error as Error).message, { cause: error });
      }
    }
    return await this.#send(args);
  }

  async evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return await this.#command([
      "EVALSHA",
      sha,
      String(options.keys.length),
      ...options.keys,
      ...options.arguments,
    ]);
  }

  async eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return await this.#command([
      "EVAL",
      script,
      String(options.keys.length),
      ...options.keys,
      ...options.arguments,
    ]);
  }

  async mGet(keys: string[]): Promise<(string | null)[]> {
    return await this.#command(["MGET", ...keys]) as (string | null)[];
  }

  async scan(
    cursor: string,
    options: { MATCH: string; COUNT: number },
  ): Promise<{ cursor: string; keys: string[] }> {
    const [next, keys] = await this.#command(
      ["SCAN", cursor, "MATCH", options.MATCH, "COUNT", String(options.COUNT)],
    ) as [string, string[]];
    return { cursor: next, keys };
  }

  #stopReconnecting(): void {
    if (this.#backoff === undefined) return;
    clearTimeout(this.#backoff.timer);
    this.#backoff.wake();
    this.#backoff = undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopReconnecting();
    await this.#opening?.catch(() => {});
    if (this.#pending.length > 0) {
      await new Promise<void>((resolve) => this.#drained = resolve);
    }
    await this.#writing;
    const socket = this.#socket;
    if (socket !== undefined) this.#drop(socket, new NotSentError("The client is closed"));
  }

  destroy(): void {
    this.#closed = true;
    this.#stopReconnecting();
    const socket = this.#socket;
    if (socket !== undefined) this.#drop(socket, new Error("Connection destroyed"));
  }
}
