import { act, fireEvent, render, screen } from "@testing-library/react-native";
import * as WebBrowser from "expo-web-browser";
import { AccessibilityInfo } from "react-native";
import { SafeAreaProvider } from "react-native-safe-area-context";

import { ChatApp } from "../App";
import type { AppConfig } from "../config";
import { ChatStore } from "../core/chatStore";
import { EN, RU, type Labels } from "../core/i18n";
import { MemoryKeyValue } from "../core/storage";
import { lastSocket, SESSION_A, settle, sockets } from "../test/fakeSocket";

jest.mock("socket.io-client", () => require("../test/mockSocketIo").ioMock());
jest.mock("react-native-safe-area-context", () => require("react-native-safe-area-context/jest/mock").default);
jest.mock("expo-web-browser", () => ({ openBrowserAsync: jest.fn(async () => ({ type: "opened" })) }));

const config: AppConfig = {
  shopName: "Кроссовки.рф",
  rasaUrl: "https://rasa.example",
  socketPath: "/socket.io/",
  release: false,
  pushRegisterUrl: null,
  colors: { primary: "#2f6fed", primaryDark: "#7aa2ff" },
};

async function renderChat(labels: Labels = RU) {
  const store = new ChatStore({ url: config.rasaUrl, path: config.socketPath, storage: new MemoryKeyValue(), secrets: new MemoryKeyValue() });
  await act(async () => {
    await store.load();
  });
  render(
    <SafeAreaProvider>
      <ChatApp store={store} labels={labels} config={config} />
    </SafeAreaProvider>,
  );
  const socket = lastSocket();
  await act(async () => {
    socket.serverAccepts();
    await settle();
    socket.confirm(SESSION_A);
  });
  return { store, socket };
}

beforeEach(() => {
  sockets.length = 0;
  // VirtualizedList batches rendering on timers; fake ones keep them inside act.
  jest.useFakeTimers();
  jest.spyOn(AccessibilityInfo, "announceForAccessibility").mockImplementation(() => undefined);
});

afterEach(() => {
  act(() => jest.runOnlyPendingTimers());
  jest.useRealTimers();
});

test("bot text and quick replies render; pressing a button sends its payload and shows its title", async () => {
  const { store, socket } = await renderChat();
  expect(screen.getByText("Кроссовки.рф")).toBeTruthy();
  expect(screen.getByText(RU.online)).toBeTruthy();

  fireEvent.changeText(screen.getByLabelText(RU.placeholder), "хочу отменить заказ A-10234");
  fireEvent.press(screen.getByRole("button", { name: RU.send }));
  expect(socket.userMessages()).toEqual(["хочу отменить заказ A-10234"]);
  expect(screen.getByTestId("typing")).toBeTruthy();

  act(() => {
    socket.say({
      text: "Отменить заказ A-10234?",
      quick_replies: [
        { title: "Да, отменить", payload: "/affirm" },
        { title: "Нет", payload: "/deny" },
      ],
    });
  });
  expect(screen.queryByTestId("typing")).toBeNull();
  expect(screen.getByText("Отменить заказ A-10234?")).toBeTruthy();
  expect(AccessibilityInfo.announceForAccessibility).toHaveBeenCalledWith("Отменить заказ A-10234?");
  expect(screen.getAllByTestId("quick-reply")).toHaveLength(2);

  fireEvent.press(screen.getByRole("button", { name: "Да, отменить" }));
  expect(socket.userMessages()).toEqual(["хочу отменить заказ A-10234", "/affirm"]);
  expect(screen.getByText("Да, отменить")).toBeTruthy(); // now the shopper's message
  expect(screen.queryAllByTestId("quick-reply")).toHaveLength(0);
  expect(screen.queryByText("/affirm")).toBeNull();
  act(() => store.stop());
});

test("message states: sending, sent on acknowledgement, failed with a retry that resends", async () => {
  const { store, socket } = await renderChat(EN);
  fireEvent.changeText(screen.getByLabelText(EN.placeholder), "where is my order");
  fireEvent.press(screen.getByRole("button", { name: EN.send }));
  expect(screen.getByText(EN.statusSending)).toBeTruthy();
  act(() => socket.ack(0));
  expect(screen.getByText(EN.statusSent)).toBeTruthy();

  fireEvent.changeText(screen.getByLabelText(EN.placeholder), "6199");
  fireEvent.press(screen.getByRole("button", { name: EN.send }));
  act(() => socket.drop());
  expect(screen.getByText(EN.offline)).toBeTruthy();
  const retry = screen.getByRole("button", { name: `${EN.statusFailed}. ${EN.retry}: 6199` });
  await act(async () => {
    socket.serverAccepts();
    await settle();
    socket.confirm(SESSION_A);
  });
  expect(socket.userMessages()).toEqual(["where is my order", "6199"]);
  fireEvent.press(retry);
  expect(socket.userMessages()).toEqual(["where is my order", "6199", "6199"]);
  expect(screen.queryByTestId("msg-retry")).toBeNull();
  act(() => store.stop());
});

test("typed offline: shown as waiting for the network, sent when the connection returns", async () => {
  const { store, socket } = await renderChat(EN);
  act(() => socket.drop());
  fireEvent.changeText(screen.getByLabelText(EN.placeholder), "hello");
  fireEvent.press(screen.getByRole("button", { name: EN.send }));
  expect(screen.getByText(EN.statusQueued)).toBeTruthy();
  expect(socket.userMessages()).toEqual([]);
  await act(async () => {
    socket.serverAccepts();
    await settle();
    socket.confirm(SESSION_A);
  });
  expect(socket.userMessages()).toEqual(["hello"]);
  act(() => store.stop());
});

test("images and links render; a payment link opens in the browser", async () => {
  const { store, socket } = await renderChat(EN);
  act(() => {
    socket.say({ attachment: { type: "image", payload: { src: "https://shop.example/shoe.png" } } });
    socket.say({ text: "Pay here: https://pay.example/p/A-10240 thanks" });
  });
  expect(screen.getByTestId("msg-image").props.source).toEqual({ uri: "https://shop.example/shoe.png" });
  fireEvent.press(screen.getByRole("link", { name: EN.openLink("https://pay.example/p/A-10240") }));
  expect(WebBrowser.openBrowserAsync).toHaveBeenCalledWith("https://pay.example/p/A-10240");
  act(() => store.stop());
});

test("operator handoff: banner, operator's words marked; the conversations screen shows each status", async () => {
  const { store, socket } = await renderChat(RU);
  fireEvent.changeText(screen.getByLabelText(RU.placeholder), "позовите оператора");
  fireEvent.press(screen.getByRole("button", { name: RU.send }));
  act(() => {
    socket.say({ easyflow_handoff: "active", operator: "anna" });
    socket.say({ text: "Здравствуйте! Я Анна." });
  });
  expect(screen.getAllByText(RU.operatorJoined("anna")).length).toBeGreaterThan(0);
  expect(screen.getByTestId("msg-operator")).toBeTruthy();

  fireEvent.press(screen.getByRole("button", { name: RU.conversations }));
  expect(screen.getByTestId("conversation-status-operator")).toBeTruthy();
  expect(screen.getByText("позовите оператора")).toBeTruthy();

  await act(async () => {
    fireEvent.press(screen.getByTestId("start-new-conversation"));
    await settle();
  });
  fireEvent.press(screen.getByRole("button", { name: RU.conversations }));
  expect(screen.getByTestId("conversation-status-bot")).toBeTruthy();
  expect(screen.getByTestId("conversation-status-closed")).toBeTruthy();
  expect(screen.getAllByTestId("conversation-item")).toHaveLength(2);

  // The closed conversation opens read-only, with a way to start again.
  fireEvent.press(screen.getAllByTestId("conversation-item")[1]!);
  expect(screen.getByText("позовите оператора")).toBeTruthy();
  expect(screen.queryByLabelText(RU.placeholder)).toBeNull();
  expect(screen.getByTestId("new-conversation")).toBeTruthy();
  act(() => store.stop());
});
