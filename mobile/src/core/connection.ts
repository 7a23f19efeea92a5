// One socket.io connection to Rasa's web chat channel, with our own reconnect
// and backoff (socket.io's built-in reconnection is off so the delays, the
// "network is back, try now" nudge and the session handshake are ours and tested).
import { io } from "socket.io-client";

import { backoffDelay } from "./backoff";
import { userUttered } from "./protocol";

export type ConnectionState = "connecting" | "online" | "offline";

/** The part of socket.io-client's Socket this module uses (the test boundary). */
export interface ChatSocket {
  readonly connected: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
  removeAllListeners(): unknown;
}

export interface ConnectionOptions {
  url: string;
  path: string;
  /** The session id kept on the device for this conversation, or null for a new one. */
  loadSession: () => Promise<string | null>;
  /** Stores the id the server confirmed (it may differ from the one presented). */
  saveSession: (sessionId: string) => Promise<void>;
  onState: (state: ConnectionState) => void;
  /** The server confirmed a session: the socket may send now. */
  onReady: (sessionId: string) => void;
  /** The socket dropped: messages without an acknowledgement may not have arrived. */
  onDrop: () => void;
  onBot: (message: unknown) => void;
  backoff?: (attempt: number) => number;
  ackTimeoutMs?: number;
}

export class ChatConnection {
  private socket: ChatSocket | null = null;
  private sessionId: string | null = null;
  private ready = false;
  private stopped = false;
  private paused = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly ackTimers = new Set<ReturnType<typeof setTimeout>>();
  private state: ConnectionState = "offline";
  private readonly options: ConnectionOptions;

  constructor(options: ConnectionOptions) {
    this.options = options;
  }

  get isReady(): boolean {
    return this.ready && this.socket?.connected === true;
  }

  get currentState(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (this.socket) return;
    this.stopped = false;
    const socket = io(this.options.url, {
      path: this.options.path,
      transports: ["websocket"],
      reconnection: false,
      autoConnect: false,
      timeout: 10000,
    }) as unknown as ChatSocket;
    this.socket = socket;
    socket.on("connect", () => {
      this.ready = false;
      this.setState("connecting");
      void this.requestSession(socket);
    });
    socket.on("session_confirm", (sessionId: unknown) => {
      if (typeof sessionId !== "string" || sessionId === "" || socket !== this.socket) return;
      this.sessionId = sessionId;
      this.attempt = 0;
      void this.options.saveSession(sessionId).catch(() => undefined);
      this.ready = true;
      this.setState("online");
      this.options.onReady(sessionId);
    });
    socket.on("bot_uttered", (message: unknown) => this.options.onBot(message));
    socket.on("disconnect", () => {
      const wasReady = this.ready;
      this.ready = false;
      this.setState("offline");
      if (wasReady) this.options.onDrop();
      this.scheduleReconnect();
    });
    socket.on("connect_error", () => {
      this.ready = false;
      this.setState("offline");
      this.scheduleReconnect();
    });
    this.setState("connecting");
    socket.connect();
  }

  /** Emits one user message; `done(true)` on the server's acknowledgement. */
  send(message: string, done: (acknowledged: boolean) => void): boolean {
    const socket = this.socket;
    if (!socket || !this.isReady || !this.sessionId) return false;
    let settled = false;
    const timeout = setTimeout(() => {
      this.ackTimers.delete(timeout);
      if (settled) return;
      settled = true;
      done(false);
    }, this.options.ackTimeoutMs ?? 60000);
    this.ackTimers.add(timeout);
    socket.emit("user_uttered", userUttered(message, this.sessionId), () => {
      clearTimeout(timeout);
      this.ackTimers.delete(timeout);
      // A late acknowledgement still means the message arrived.
      settled = true;
      done(true);
    });
    return true;
  }

  /**
   * The device reports no network: hang up now rather than after socket.io's
   * ping timeout (up to 45 s), so what the shopper types meanwhile is queued,
   * and stop retrying until `retryNow`.
   */
  pause(): void {
    if (this.stopped || !this.socket) return;
    this.paused = true;
    this.clearTimer();
    if (this.socket.connected) this.socket.disconnect();
    this.ready = false;
    this.setState("offline");
  }

  /** The network came back (or the app returned to the foreground): retry now. */
  retryNow(): void {
    this.paused = false;
    if (this.stopped || !this.socket || this.socket.connected) return;
    this.clearTimer();
    this.attempt = 0;
    this.setState("connecting");
    this.socket.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimer();
    for (const timeout of this.ackTimers) clearTimeout(timeout);
    this.ackTimers.clear();
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
    this.setState("offline");
  }

  private async requestSession(socket: ChatSocket): Promise<void> {
    if (this.sessionId === null) {
      this.sessionId = await this.options.loadSession().catch(() => null);
    }
    if (socket !== this.socket || !socket.connected) return;
    socket.emit("session_request", { session_id: this.sessionId || null });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.paused || this.timer !== null) return;
    const delay = (this.options.backoff ?? backoffDelay)(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stopped || !this.socket || this.socket.connected) return;
      this.setState("connecting");
      this.socket.connect();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState(state);
  }
}
