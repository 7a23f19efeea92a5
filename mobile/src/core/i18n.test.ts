import { getLocales } from "expo-localization";

import { deviceLabels, EN, labelsFor, RU } from "./i18n";

jest.mock("expo-localization", () => ({ getLocales: jest.fn() }));

const mocked = getLocales as jest.MockedFunction<typeof getLocales>;

function locale(languageTag: string, languageCode: string | null) {
  return [{ languageTag, languageCode }] as unknown as ReturnType<typeof getLocales>;
}

test("Russian for a Russian device, English for any other", () => {
  mocked.mockReturnValue(locale("ru-RU", "ru"));
  expect(deviceLabels()).toBe(RU);
  mocked.mockReturnValue(locale("en-GB", "en"));
  expect(deviceLabels()).toBe(EN);
  mocked.mockReturnValue(locale("de-DE", "de"));
  expect(deviceLabels()).toBe(EN);
  mocked.mockReturnValue(locale("ru", null));
  expect(deviceLabels()).toBe(RU);
  mocked.mockReturnValue([] as unknown as ReturnType<typeof getLocales>);
  expect(deviceLabels()).toBe(EN);
});

test("labels in both languages cover the same keys; Russian plurals", () => {
  expect(Object.keys(RU).sort()).toEqual(Object.keys(EN).sort());
  expect(labelsFor("ru-KZ").send).toBe("Отправить");
  expect([1, 2, 5, 11, 21, 22].map((n) => RU.messagesCount(n))).toEqual([
    "1 сообщение",
    "2 сообщения",
    "5 сообщений",
    "11 сообщений",
    "21 сообщение",
    "22 сообщения",
  ]);
  expect(EN.messagesCount(1)).toBe("1 message");
});
