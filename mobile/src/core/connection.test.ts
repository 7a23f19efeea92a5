import { lastSocket, SESSION_A, SESSION_B, settle, sockets } from "../test/fakeSocket";
import { ChatConnection, type ConnectionOptions, type ConnectionState } from "./connection";

jest.mock("socket.io-client", () => require("../test/mockSocketIo").ioMock());

function connection(stored: string | null, overrides: Partial<ConnectionOptions> = {}) {
  const saved: string[] = [];
  const states: ConnectionState[] = [];
  const ready: string[] = [];
  let drops = 0;
  const chat = new ChatConnection({
    url: "https://rasa.example",
    path: "/socket.io/",
    loadSession: async () => stored,
    saveSession: async (id) => {
      saved.push(id);
    },
    onState: (s) => states.push(s),
    onReady: (id) => ready.push(id),
    onDrop: () => {
      drops += 1;
    },
    onBot: () => undefined,
    backoff: (attempt) => 1000 * 2 ** attempt,
    ...overrides,
  });
  return { chat, saved, states, ready, drops: () => drops };
}

beforeEach(() => {
  sockets.length = 0;
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

test("opens socket.io on the configured path without socket.io's own reconnection", () => {
  const { chat } = connection(null);
  chat.start();
  const socket = lastSocket();
  expect(socket.url).toBe("https://rasa.example");
  expect(socket.options).toMatchObject({ path: "/socket.io/", reconnection: false, transports: ["websocket"] });
  expect(socket.connectCalls).toBe(1);
});

test("a first visit presents no session id and stores the one the server issues", async () => {
  const { chat, saved, ready, states } = connection(null);
  chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  expect(socket.sent("session_request")).toEqual([[{ session_id: null }]]);
  socket.confirm(SESSION_A);
  await settle();
  expect(saved).toEqual([SESSION_A]);
  expect(ready).toEqual([SESSION_A]);
  expect(chat.isReady).toBe(true);
  expect(states).toEqual(["connecting", "online"]);
});

test("presents the stored id, and keeps the fresh one when the server replaces it", async () => {
  const { chat, saved } = connection(SESSION_A);
  chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  expect(socket.sent("session_request")).toEqual([[{ session_id: SESSION_A }]]);
  socket.confirm(SESSION_B);
  await settle();
  expect(saved).toEqual([SESSION_B]);
  expect(chat.send("hi", () => undefined)).toBe(true);
  expect(socket.sent("user_uttered")[0]?.[0]).toEqual({ message: "hi", session_id: SESSION_B });
});

test("reconnects with growing delays and starts over after a confirmed session", async () => {
  const { chat, states } = connection(null);
  chat.start();
  const socket = lastSocket();
  socket.serverRefuses();
  expect(socket.connectCalls).toBe(1);
  jest.advanceTimersByTime(999);
  expect(socket.connectCalls).toBe(1);
  jest.advanceTimersByTime(1);
  expect(socket.connectCalls).toBe(2);
  socket.serverRefuses();
  jest.advanceTimersByTime(1999);
  expect(socket.connectCalls).toBe(2);
  jest.advanceTimersByTime(1);
  expect(socket.connectCalls).toBe(3);
  socket.serverRefuses();
  jest.advanceTimersByTime(4000);
  expect(socket.connectCalls).toBe(4);
  // Up; then the connection drops: the first delay again.
  socket.serverAccepts();
  await settle();
  socket.confirm(SESSION_A);
  socket.drop();
  jest.advanceTimersByTime(1000);
  expect(socket.connectCalls).toBe(5);
  expect(states).toContain("offline");
  expect(sockets).toHaveLength(1);
});

test("a session request follows every reconnect, with the confirmed id", async () => {
  const { chat } = connection(null);
  chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  socket.confirm(SESSION_A);
  socket.drop();
  jest.advanceTimersByTime(1000);
  socket.serverAccepts();
  await settle();
  expect(socket.sent("session_request")).toEqual([[{ session_id: null }], [{ session_id: SESSION_A }]]);
});

test("network back: retryNow connects at once instead of waiting out the backoff", () => {
  const { chat } = connection(null);
  chat.start();
  const socket = lastSocket();
  socket.serverRefuses();
  socket.serverRefuses();
  expect(socket.connectCalls).toBe(1);
  chat.retryNow();
  expect(socket.connectCalls).toBe(2);
  // The pending timer was cancelled: no second attempt from it.
  jest.advanceTimersByTime(60000);
  expect(socket.connectCalls).toBe(2);
});

test("no network: pause hangs up at once and waits for retryNow instead of backing off", async () => {
  const ctx = connection(null);
  ctx.chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  socket.confirm(SESSION_A);
  ctx.chat.pause();
  expect(socket.disconnectCalls).toBe(1);
  expect(ctx.drops()).toBe(1);
  expect(ctx.chat.isReady).toBe(false);
  expect(ctx.states[ctx.states.length - 1]).toBe("offline");
  jest.advanceTimersByTime(120000);
  expect(socket.connectCalls).toBe(1);
  ctx.chat.retryNow();
  expect(socket.connectCalls).toBe(2);
  socket.serverAccepts();
  await settle();
  expect(socket.sent("session_request")).toEqual([[{ session_id: null }], [{ session_id: SESSION_A }]]);
});

test("a drop after the session was confirmed is reported; sending waits for the next confirm", async () => {
  const ctx = connection(null);
  ctx.chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  socket.confirm(SESSION_A);
  socket.drop();
  expect(ctx.drops()).toBe(1);
  expect(ctx.chat.send("lost?", () => undefined)).toBe(false);
  expect(socket.sent("user_uttered")).toHaveLength(0);
});

test("an acknowledgement marks delivery; none within the timeout reports failure", async () => {
  const { chat } = connection(null, { ackTimeoutMs: 5000 });
  chat.start();
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  socket.confirm(SESSION_A);
  const results: boolean[] = [];
  chat.send("one", (ok) => results.push(ok));
  chat.send("two", (ok) => results.push(ok));
  socket.ack(0);
  jest.advanceTimersByTime(5000);
  expect(results).toEqual([true, false]);
});

test("stop closes the socket and never reconnects", () => {
  const { chat } = connection(null);
  chat.start();
  const socket = lastSocket();
  chat.stop();
  expect(socket.disconnectCalls).toBe(1);
  jest.advanceTimersByTime(120000);
  expect(socket.connectCalls).toBe(1);
});
