/**
 * ecl's small Redis client for Deno: RESP2 over Deno's own TCP and TLS sockets, a plain server only
 * (Sentinel and Cluster keep node-redis). `connection.ts` picks it for the library and the CLI in
 * Deno; it loads in a fraction of node-redis's time and memory. Deno only: the npm build compiles
 * `resp.node.ts` in its place.
 *
 * It connects when asked to (AUTH and SELECT as configured) and pipelines commands on one socket.
 * When an open connection breaks, it fails the commands in flight and, like node-redis, reconnects
 * in the background with backoff when the store asked for reconnection (holding new commands
 * meanwhile when it asked for an offline queue, else failing them); without reconnection the next
 * command tries one new connection.
 * @module
 */
import type { RedisConfig } from "./redis_config.ts";
import {
  asError,
  CONNECT_TIMEOUT_MS,
  type Connection,
  type ConnectionOptions,
  NotSentError,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  ReplyError,
  type TlsPems,
} from "./connection.ts";
import { backoffMs } from "./_timer.ts";
import { withTimeout } from "./_timeout.ts";

/** A connection to the plain server of `config` (not connected yet), with the PEM texts of its `tls`. */
export function respConnection(
  config: RedisConfig,
  options: ConnectionOptions,
  tls: TlsPems | undefined,
): Connection {
  return new RespConnection(config, options, tls);
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

/** Encode a command as a RESP array of bulk strings (one string, encoded once). */
export function encodeCommand(args: readonly string[]): Uint8Array {
  let text = `*${args.length}\r\n`;
  for (const arg of args) text += `$${utf8Length(arg)}\r\n${arg}\r\n`;
  return encoder.encode(text);
}

const NON_ASCII = /[\u0080-\uffff]/;

/** How many bytes `TextEncoder` makes of `text` (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        bytes += 2; // 2 code units, 4 bytes
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Reads replies from the bytes of a connection as they arrive. It keeps the arrays it is filling,
 * so a large reply (an `MGET` of 10,000 keys spans many reads) is parsed once, not again at every
 * read.
 */
export class ReplyReader {
  #buffer = new Uint8Array(0);
  /** Arrays being filled, innermost last: their items so far and how many are still to come. */
  readonly #open: { items: Reply[]; remaining: number }[] = [];

  /** The replies completed by `bytes` (an error reply as a {@link ReplyError}), in order. */
  feed(bytes: Uint8Array): (Reply | ReplyError)[] {
    const buffer = this.#buffer.length === 0 ? bytes : concat(this.#buffer, bytes);
    const replies: (Reply | ReplyError)[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = buffer.indexOf(CR, offset);
      if (lineEnd < 0 || lineEnd + 1 >= buffer.length) break;
      const type = buffer[offset];
      let next = lineEnd + 2;
      let value: Reply | ReplyError;
      switch (type) {
        case 0x2b: // +
          value = text(buffer, offset + 1, lineEnd);
          break;
        case 0x2d: // -
          value = new ReplyError(text(buffer, offset + 1, lineEnd));
          break;
        case 0x3a: // :
          value = integer(buffer, offset + 1, lineEnd);
          break;
        case 0x24: { // $
          const length = integer(buffer, offset + 1, lineEnd);
          if (length < 0) {
            value = null;
            break;
          }
          if (next + length + 2 > buffer.length) {
            this.#buffer = buffer.slice(offset);
            return replies;
          }
          value = text(buffer, next, next + length);
          next += length + 2;
          break;
        }
        case 0x2a: { // *
          const length = integer(buffer, offset + 1, lineEnd);
          if (length > 0) {
            this.#open.push({ items: [], remaining: length });
            offset = next;
            continue;
          }
          value = length < 0 ? null : [];
          break;
        }
        default:
          throw new Error(
            `Protocol error: unexpected reply ${JSON.stringify(text(buffer, offset, lineEnd))}`,
          );
      }
      offset = next;
      // Complete the arrays this value completes; a whole reply goes out.
      for (;;) {
        const array = this.#open.at(-1);
        if (array === undefined) {
          replies.push(value);
          break;
        }
        // An error inside an array (a script's error_reply) stays an error object in it.
        array.items.push(value as Reply);
        if (--array.remaining > 0) break;
        this.#open.pop();
        value = array.items;
      }
    }
    this.#buffer = buffer.slice(offset);
    return replies;
  }
}

/** The integer written in ASCII in `buffer[start..end)`. */
function integer(buffer: Uint8Array, start: number, end: number): number {
  const negative = buffer[start] === 0x2d;
  let value = 0;
  for (let i = negative ? start + 1 : start; i < end; i++) {
    const digit = buffer[i] - 0x30;
    if (digit < 0 || digit > 9) throw new Error("Protocol error: expected an integer");
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** `buffer[start..end)` as UTF-8 text; short ASCII (most keys and counts) without a decoder. */
function text(buffer: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(buffer.subarray(start, end));
  for (let i = start; i < end; i++) {
    if (buffer[i] >= 0x80) return decoder.decode(buffer.subarray(start, end));
  }
  return String.fromCharCode.apply(null, buffer.subarray(start, end) as unknown as number[]);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
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
  return asError(error);
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

  /** A plain server's connection emits `"ready"` when it is back. */
  readonly replyEndsOutage = false;

  explain(error: unknown): Error {
    return asError(error);
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
        // Not when the connection broke again before this turn (#drop reported that).
        if (this.#ready) this.#emit("ready");
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
    let socket: Deno.Conn | undefined;
    try {
      socket = await withTimeout(opened, CONNECT_TIMEOUT_MS, () => undefined);
      if (socket === undefined) throw new Error("Connection timeout");
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
    if ("setKeepAlive" in socket) {
      // Like node-redis: notice a peer that vanished without closing the connection, and send
      // each command at once (no Nagle delay for the last segment of a large one).
      (socket as Deno.TcpConn).setKeepAlive(true);
      (socket as Deno.TcpConn).setNoDelay(true);
    }
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
      // Closed already (a read can end before the handshake does; #drop reported it): not ready.
      if (this.#socket !== socket) throw new Error("Socket closed unexpectedly");
      // Ready in this turn: a #drop, from now on, finds a ready connection to give up.
      this.#ready = true;
    } catch (error) {
      // connect() reports it.
      this.#drop(socket, error as Error, false);
      throw error;
    }
  }

  /** Read replies from `socket` until it closes; they answer the pending commands in order. */
  async #read(socket: Deno.Conn): Promise<void> {
    const reader = new ReplyReader();
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const read = await socket.read(chunk);
        if (read === null) throw new Error("Socket closed unexpectedly");
        for (const reply of reader.feed(chunk.subarray(0, read))) {
          const pending = this.#pending.shift();
          if (pending === undefined) throw new Error("Protocol error: a reply nobody asked for");
          if (reply instanceof ReplyError) pending.reject(reply);
          else pending.resolve(reply);
        }
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
        } catch {
          // Reported by connect(); try again.
        }
        // Connected, unless the connection broke again at once (then #drop found this loop
        // still running and started none).
        if (this.#ready) return;
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

  async hGetAll(key: string): Promise<Record<string, string>> {
    const flat = await this.#command(["HGETALL", key]) as string[];
    // Fields are event IDs (user data): no prototype, so "__proto__" is a field like any other.
    const fields: Record<string, string> = Object.create(null);
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return fields;
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
