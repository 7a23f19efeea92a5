// A stand-in for socket.io-client's Socket, used only at the socket.io boundary
// (jest.mock("socket.io-client")): the code under test is the real connection,
// store and UI; the test plays the server's side of the web chat protocol.
export interface Emitted {
  event: string;
  args: unknown[];
}

export class FakeSocket {
  connected = false;
  connectCalls = 0;
  disconnectCalls = 0;
  readonly emitted: Emitted[] = [];
  private handlers = new Map<string, Array<(...args: any[]) => void>>();

  constructor(
    readonly url: string,
    readonly options: Record<string, unknown>,
  ) {}

  on(event: string, listener: (...args: any[]) => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    this.emitted.push({ event, args });
    return this;
  }

  connect(): this {
    this.connectCalls += 1;
    return this;
  }

  /** As socket.io-client: a connected socket reports "io client disconnect" at once. */
  disconnect(): this {
    this.disconnectCalls += 1;
    if (this.connected) {
      this.connected = false;
      this.fire("disconnect", "io client disconnect");
    }
    return this;
  }

  removeAllListeners(): this {
    this.handlers.clear();
    return this;
  }

  // The server's side.
  private fire(event: string, ...args: unknown[]): void {
    for (const listener of this.handlers.get(event) ?? []) listener(...args);
  }

  serverAccepts(): void {
    this.connected = true;
    this.fire("connect");
  }

  serverRefuses(): void {
    this.connected = false;
    this.fire("connect_error", new Error("refused"));
  }

  confirm(sessionId: string): void {
    this.fire("session_confirm", sessionId);
  }

  say(message: unknown): void {
    this.fire("bot_uttered", message);
  }

  drop(reason = "transport close"): void {
    this.connected = false;
    this.fire("disconnect", reason);
  }

  sent(event: string): unknown[][] {
    return this.emitted.filter((e) => e.event === event).map((e) => e.args);
  }

  /** The messages sent as user_uttered, in order. */
  userMessages(): string[] {
    return this.sent("user_uttered").map((args) => (args[0] as { message: string }).message);
  }

  /** Acknowledges the n-th user_uttered (the server's handler returned). */
  ack(index: number): void {
    const args = this.sent("user_uttered")[index];
    const callback = args?.[args.length - 1];
    if (typeof callback !== "function") throw new Error(`no acknowledgement callback for message ${index}`);
    callback();
  }
}

export const sockets: FakeSocket[] = [];

export function lastSocket(): FakeSocket {
  const socket = sockets[sockets.length - 1];
  if (!socket) throw new Error("no socket was opened");
  return socket;
}

/** Lets pending promise callbacks (storage reads, the session request) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

export const SESSION_A = `webchat:${"a".repeat(32)}.${"1".repeat(32)}`;
export const SESSION_B = `webchat:${"b".repeat(32)}.${"2".repeat(32)}`;
