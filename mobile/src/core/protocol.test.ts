import { backoffDelay } from "./backoff";
import { backendUrlProblem, isLocalHost } from "./backendUrl";
import { handoffOf, linkify, partsOf } from "./protocol";

test("partsOf reads text, quick replies (or buttons) and an image attachment", () => {
  expect(
    partsOf({
      text: "Заказ A-10234 в пути",
      quick_replies: [{ title: "Да", payload: "/affirm" }, { title: "", payload: "/x" }],
    }),
  ).toEqual({ text: "Заказ A-10234 в пути", image: undefined, replies: [{ title: "Да", payload: "/affirm" }], handoff: null });
  expect(partsOf({ buttons: [{ title: "Track", payload: "/track" }] }).replies).toEqual([{ title: "Track", payload: "/track" }]);
  expect(partsOf({ attachment: { type: "image", payload: { src: "https://s.example/p.png" } } }).image).toBe(
    "https://s.example/p.png",
  );
  expect(partsOf({ image: "https://s.example/q.png" }).image).toBe("https://s.example/q.png");
});

test("partsOf refuses non-http images and odd shapes", () => {
  expect(partsOf({ image: "javascript:alert(1)" }).image).toBeUndefined();
  expect(partsOf({ attachment: { type: "video", payload: { src: "https://s.example/v.mp4" } } }).image).toBeUndefined();
  expect(partsOf("text")).toEqual({ replies: [], handoff: null });
  expect(partsOf({ text: "   ", buttons: "no" })).toEqual({ text: undefined, image: undefined, replies: [], handoff: null });
});

test("handoff markers at the top level or under data/custom", () => {
  expect(handoffOf({ easyflow_handoff: "active", operator: "anna" })).toEqual({ state: "active", operator: "anna" });
  expect(handoffOf({ data: { easyflow_handoff: "ended" } })).toEqual({ state: "ended", operator: undefined });
  expect(handoffOf({ custom: { easyflow_handoff: "active" } })).toEqual({ state: "active", operator: undefined });
  expect(handoffOf({ text: "hi" })).toBeNull();
});

test("linkify finds payment links and leaves the punctuation after them", () => {
  expect(linkify("Оплатите: https://pay.example/p/A-10240?x=1. Спасибо")).toEqual([
    { text: "Оплатите: " },
    { text: "https://pay.example/p/A-10240?x=1", url: "https://pay.example/p/A-10240?x=1" },
    { text: ". Спасибо" },
  ]);
  expect(linkify("no links")).toEqual([{ text: "no links" }]);
});

test("backoff doubles up to the cap, with bounded jitter", () => {
  const none = { jitter: 0 };
  expect([0, 1, 2, 3, 10].map((a) => backoffDelay(a, none))).toEqual([1000, 2000, 4000, 8000, 30000]);
  expect(backoffDelay(1, { random: () => 0 })).toBe(1600);
  expect(backoffDelay(1, { random: () => 1 })).toBe(2400);
});

test("release builds refuse local and plain-http backends", () => {
  expect(isLocalHost("127.0.0.1")).toBe(true);
  expect(isLocalHost("shop.example")).toBe(false);
  expect(backendUrlProblem("http://localhost:5005", false)).toBeNull();
  expect(backendUrlProblem("http://localhost:5005", true)).toMatch(/local backend/);
  expect(backendUrlProblem("https://127.0.0.1", true)).toMatch(/local backend/);
  expect(backendUrlProblem("http://[::1]:5005", true)).toMatch(/local backend/);
  expect(backendUrlProblem("http://10.0.2.2:5005", true)).toMatch(/local backend/);
  expect(backendUrlProblem("http://chat.shop.example", true)).toMatch(/https/);
  expect(backendUrlProblem("https://chat.shop.example", true)).toBeNull();
  expect(backendUrlProblem("chat.shop.example", false)).toMatch(/not an http/);
});
