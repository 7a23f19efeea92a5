import { registerPushTokenWithBackend, type PermissionStatus, type PushDevice } from "./push";

const SESSION = `webchat:${"a".repeat(32)}.${"1".repeat(32)}`;

function device(overrides: Partial<PushDevice> = {}, permission: PermissionStatus = "granted") {
  const posts: Array<{ url: string; body: Record<string, string> }> = [];
  const requested: string[] = [];
  const fake: PushDevice = {
    isDevice: true,
    platform: "ios",
    getPermission: async () => permission,
    requestPermission: async () => {
      requested.push("asked");
      return "granted";
    },
    getToken: async () => "ExponentPushToken[abc]",
    post: async (url, body) => {
      posts.push({ url, body });
      return { status: 201 };
    },
    ...overrides,
  };
  return { fake, posts, requested };
}

test("registers the Expo push token with the session it belongs to", async () => {
  const { fake, posts } = device();
  const result = await registerPushTokenWithBackend("https://api.shop.example/push/register", SESSION, fake);
  expect(result).toEqual({ status: "registered", token: "ExponentPushToken[abc]" });
  expect(posts).toEqual([
    { url: "https://api.shop.example/push/register", body: { session_id: SESSION, token: "ExponentPushToken[abc]", platform: "ios" } },
  ]);
});

test("asks for permission once when undetermined; a refusal registers nothing", async () => {
  const asked = device({}, "undetermined");
  expect((await registerPushTokenWithBackend("https://x.example/p", SESSION, asked.fake)).status).toBe("registered");
  expect(asked.requested).toEqual(["asked"]);
  const denied = device({}, "denied");
  expect(await registerPushTokenWithBackend("https://x.example/p", SESSION, denied.fake)).toEqual({
    status: "skipped",
    reason: "permission denied",
  });
  expect(denied.posts).toEqual([]);
});

test("skipped without an endpoint, on the web and on simulators; a backend error is reported", async () => {
  expect((await registerPushTokenWithBackend(null, SESSION, device().fake)).status).toBe("skipped");
  expect(await registerPushTokenWithBackend("https://x.example/p", SESSION, device({ platform: "web" }).fake)).toEqual({
    status: "skipped",
    reason: "web",
  });
  expect(await registerPushTokenWithBackend("https://x.example/p", SESSION, device({ isDevice: false }).fake)).toEqual({
    status: "skipped",
    reason: "not a device",
  });
  const failing = device({ post: async () => ({ status: 401 }) });
  expect(await registerPushTokenWithBackend("https://x.example/p", SESSION, failing.fake)).toEqual({ status: "failed", reason: "HTTP 401" });
  const throwing = device({ getToken: async () => Promise.reject(new Error("no projectId")) });
  expect(await registerPushTokenWithBackend("https://x.example/p", SESSION, throwing.fake)).toEqual({ status: "failed", reason: "no projectId" });
});
