import { lastSocket, SESSION_A, SESSION_B, settle, sockets } from "../test/fakeSocket";
import { ChatStore } from "./chatStore";
import type { Conversation, UserMessage } from "./model";
import { CONVERSATIONS_KEY, MemoryKeyValue, sessionKey } from "./storage";

jest.mock("socket.io-client", () => require("../test/mockSocketIo").ioMock());

function makeStore(storage = new MemoryKeyValue(), secrets = new MemoryKeyValue()) {
  const store = new ChatStore({
    url: "https://rasa.example",
    path: "/socket.io/",
    storage,
    secrets,
    backoff: (attempt) => 1000 * 2 ** attempt,
    ackTimeoutMs: 30000,
  });
  return { store, storage, secrets };
}

async function online(sessionId = SESSION_A) {
  const socket = lastSocket();
  socket.serverAccepts();
  await settle();
  socket.confirm(sessionId);
  await settle();
  return socket;
}

function userMessages(store: ChatStore): UserMessage[] {
  return (store.active?.messages ?? []).filter((m): m is UserMessage => m.role === "user");
}

beforeEach(() => {
  sockets.length = 0;
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

test("messages typed offline are queued, then sent once, in order, when the connection returns", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = lastSocket();
  socket.serverRefuses();
  store.send("где мой заказ A-10234");
  store.send("6199");
  store.send("спасибо");
  expect(userMessages(store).map((m) => m.status)).toEqual(["queued", "queued", "queued"]);
  expect(socket.sent("user_uttered")).toHaveLength(0);

  jest.advanceTimersByTime(1000); // backoff: the next attempt succeeds
  await online();
  expect(socket.userMessages()).toEqual(["где мой заказ A-10234", "6199", "спасибо"]);
  expect(socket.sent("user_uttered").map((args) => (args[0] as { session_id: string }).session_id)).toEqual([
    SESSION_A,
    SESSION_A,
    SESSION_A,
  ]);
  expect(userMessages(store).map((m) => m.status)).toEqual(["sending", "sending", "sending"]);
  socket.ack(0);
  socket.ack(1);
  socket.ack(2);
  expect(userMessages(store).map((m) => m.status)).toEqual(["sent", "sent", "sent"]);

  // Another drop and reconnect sends nothing twice.
  socket.drop();
  jest.advanceTimersByTime(1000);
  await online();
  expect(socket.userMessages()).toHaveLength(3);
  store.stop();
});

test("the device reports no network: typed messages wait, then go out in order when it returns", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  store.networkLost();
  expect(store.getState().connection).toBe("offline");
  store.send("first");
  store.send("second");
  expect(userMessages(store).map((m) => m.status)).toEqual(["queued", "queued"]);
  jest.advanceTimersByTime(120000);
  expect(socket.connectCalls).toBe(1); // no retries while the device is offline
  store.networkRestored();
  expect(socket.connectCalls).toBe(2);
  await online();
  expect(socket.userMessages()).toEqual(["first", "second"]);
  store.stop();
});

test("a message in flight when the connection drops fails, and retry sends it again at the end", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  store.send("первое");
  socket.ack(0);
  store.send("второе");
  expect(userMessages(store).map((m) => m.status)).toEqual(["sent", "sending"]);
  socket.drop();
  expect(userMessages(store).map((m) => m.status)).toEqual(["sent", "failed"]);
  // Not resent by itself on reconnect: the server may have it already.
  jest.advanceTimersByTime(1000);
  await online();
  expect(socket.userMessages()).toEqual(["первое", "второе"]);

  store.send("третье");
  const failed = userMessages(store).find((m) => m.status === "failed");
  store.retry(failed!.id);
  expect(socket.userMessages()).toEqual(["первое", "второе", "третье", "второе"]);
  expect(userMessages(store).map((m) => m.text)).toEqual(["первое", "третье", "второе"]);
  store.stop();
});

test("no acknowledgement in time fails the message; a late one still marks it sent", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  store.send("hello");
  jest.advanceTimersByTime(30000);
  expect(userMessages(store)[0]?.status).toBe("failed");
  socket.ack(0);
  expect(userMessages(store)[0]?.status).toBe("sent");
  store.stop();
});

test("a button sends its payload and shows its title", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  socket.say({ text: "Подтвердите отмену", quick_replies: [{ title: "Да", payload: "/affirm" }] });
  store.pressButton({ title: "Да", payload: "/affirm" });
  expect(socket.userMessages()).toEqual(["/affirm"]);
  expect(userMessages(store)[0]).toMatchObject({ text: "Да", payload: "/affirm" });
  store.stop();
});

test("bot messages: text, image, buttons; typing shows after sending and hides on the answer", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  store.send("hi");
  expect(store.getState().typing).toBe(true);
  socket.say({ attachment: { type: "image", payload: { src: "https://shop.example/a.png" } } });
  expect(store.getState().typing).toBe(false);
  socket.say({ text: "Choose", buttons: [{ title: "Track", payload: "/track" }] });
  const bots = store.active!.messages.filter((m) => m.role === "bot");
  expect(bots).toEqual([
    expect.objectContaining({ image: "https://shop.example/a.png" }),
    expect.objectContaining({ text: "Choose", buttons: [{ title: "Track", payload: "/track" }] }),
  ]);
  store.stop();
});

test("an operator joins and leaves: the conversation's status follows, their words are marked", async () => {
  const { store } = makeStore();
  await store.load();
  const socket = await online();
  socket.say({ easyflow_handoff: "active", operator: "anna" });
  expect(store.active?.status).toBe("operator");
  socket.say({ text: "Здравствуйте, я Анна" });
  store.send("спасибо");
  expect(store.getState().typing).toBe(false); // the bot stays silent during a handoff
  socket.say({ text: "Рада помочь!" });
  socket.say({ data: { easyflow_handoff: "ended" } });
  socket.say({ text: "Я снова на связи" });
  expect(store.active?.status).toBe("bot");
  const roles = store.active!.messages.map((m) => (m.role === "bot" ? `bot:${m.operator ?? ""}` : m.role === "system" ? m.event : m.role));
  // The operator's last words, just before the hand-back, stay theirs.
  expect(roles).toEqual(["operator_joined", "bot:anna", "user", "bot:anna", "operator_left", "bot:"]);
  store.stop();
});

test("history is kept on the device; a message in flight at exit comes back as failed", async () => {
  const { store, storage, secrets } = makeStore();
  await store.load();
  const socket = await online();
  store.send("one");
  socket.ack(0);
  socket.say({ text: "answer" });
  store.send("two");
  await store.flushed();
  store.stop();
  expect(await secrets.getItem(sessionKey(store.active!.id))).toBe(SESSION_A);
  expect(JSON.parse((await storage.getItem(CONVERSATIONS_KEY))!)).toHaveLength(1);

  sockets.length = 0;
  const again = makeStore(storage, secrets).store;
  await again.load();
  expect(again.active?.id).toBe(store.active?.id);
  expect(again.active?.messages.map((m) => (m.role === "user" ? `${m.text}:${m.status}` : m.role))).toEqual([
    "one:sent",
    "bot",
    "two:failed",
  ]);
  // The stored session is presented again.
  lastSocket().serverAccepts();
  await settle();
  expect(lastSocket().sent("session_request")).toEqual([[{ session_id: SESSION_A }]]);
  again.stop();
});

test("each confirmed session is reported (push registration hooks in here)", async () => {
  const sessions: string[] = [];
  const store = new ChatStore({
    url: "https://rasa.example",
    path: "/socket.io/",
    storage: new MemoryKeyValue(),
    secrets: new MemoryKeyValue(),
    onSession: (id) => sessions.push(id),
  });
  await store.load();
  await online(SESSION_A);
  await store.startNewConversation();
  await online(SESSION_B);
  expect(sessions).toEqual([SESSION_A, SESSION_B]);
  store.stop();
});

test("a new conversation closes the previous one and asks the server for a fresh session", async () => {
  const { store, secrets } = makeStore();
  await store.load();
  await online(SESSION_A);
  const first = store.active!.id;
  store.send("hello");
  await store.startNewConversation();
  const conversations: Conversation[] = store.getState().conversations;
  expect(conversations.map((c) => c.status)).toEqual(["bot", "closed"]);
  expect(conversations[1]?.id).toBe(first);
  expect(await secrets.getItem(sessionKey(first))).toBeNull();
  const socket = lastSocket();
  expect(sockets).toHaveLength(2);
  socket.serverAccepts();
  await settle();
  expect(socket.sent("session_request")).toEqual([[{ session_id: null }]]);
  socket.confirm(SESSION_B);
  await settle();
  expect(await secrets.getItem(sessionKey(store.active!.id))).toBe(SESSION_B);
  // Every conversation belongs to the same device user.
  expect(new Set(conversations.map((c) => c.userId)).size).toBe(1);
  store.stop();
});
