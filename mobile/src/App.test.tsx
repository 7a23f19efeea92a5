import { act, render, screen } from "@testing-library/react-native";
import Constants from "expo-constants";
import { getLocales } from "expo-localization";

import App from "./App";
import { sockets } from "./test/fakeSocket";

jest.mock("socket.io-client", () => require("./test/mockSocketIo").ioMock());
jest.mock("react-native-safe-area-context", () => require("react-native-safe-area-context/jest/mock").default);
jest.mock("expo-localization", () => ({ getLocales: jest.fn() }));
jest.mock("expo-constants", () => ({ __esModule: true, default: { expoConfig: { extra: {} } } }));
jest.mock("expo-network", () => ({ addNetworkStateListener: jest.fn(() => ({ remove: jest.fn() })) }));
jest.mock("expo-secure-store", () => {
  const data = new Map<string, string>();
  return {
    getItemAsync: jest.fn(async (k: string) => data.get(k) ?? null),
    setItemAsync: jest.fn(async (k: string, v: string) => void data.set(k, v)),
    deleteItemAsync: jest.fn(async (k: string) => void data.delete(k)),
  };
});

const locales = getLocales as jest.MockedFunction<typeof getLocales>;

function setExtra(extra: Record<string, unknown>) {
  (Constants as { expoConfig: unknown }).expoConfig = { name: "test", slug: "test", extra };
}

beforeEach(() => {
  sockets.length = 0;
});

test.each([
  ["ru-RU", "ru", "Напишите сообщение…", "Разговоры"],
  ["en-US", "en", "Type a message…", "Conversations"],
])("device locale %s gives the %s interface", async (tag, code, placeholder, conversations) => {
  locales.mockReturnValue([{ languageTag: tag, languageCode: code }] as unknown as ReturnType<typeof getLocales>);
  setExtra({ shopName: "Demo shop", rasaUrl: "https://rasa.example", socketPath: "/socket.io/", release: false });
  const view = render(<App />);
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
  expect(await screen.findByLabelText(placeholder)).toBeTruthy();
  expect(screen.getByRole("button", { name: conversations })).toBeTruthy();
  expect(sockets[0]?.url).toBe("https://rasa.example");
  view.unmount();
});

test("a release bundle pointing at localhost refuses to start", () => {
  locales.mockReturnValue([{ languageTag: "en-US", languageCode: "en" }] as unknown as ReturnType<typeof getLocales>);
  setExtra({ rasaUrl: "http://localhost:5005", release: true });
  render(<App />);
  expect(screen.getByText("The app is misconfigured")).toBeTruthy();
  expect(screen.getByText(/local backend/)).toBeTruthy();
  expect(sockets).toHaveLength(0);
});
