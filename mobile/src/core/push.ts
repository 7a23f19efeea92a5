// App side of push notifications (issue 15, item 3): get the Expo push token and
// hand it to the backend with the session it belongs to, when
// EASYFLOW_PUSH_REGISTER_URL is set (<rasa url>/webhooks/socketio/push,
// connectors/push.py): POST {"session_id", "token", "platform"} with the
// server-signed session id as the credential; 204 means stored.

export type PermissionStatus = "granted" | "denied" | "undetermined";

export interface PushDevice {
  /** False on simulators and emulators, which get no push token. */
  isDevice: boolean;
  platform: string;
  getPermission(): Promise<PermissionStatus>;
  requestPermission(): Promise<PermissionStatus>;
  /** The Expo push token (ExponentPushToken[…]). */
  getToken(): Promise<string>;
  post(url: string, body: Record<string, string>): Promise<{ status: number }>;
}

export type PushRegistration =
  | { status: "registered"; token: string }
  | { status: "skipped"; reason: "no endpoint" | "web" | "not a device" | "permission denied" }
  | { status: "failed"; reason: string };

export async function registerPushTokenWithBackend(
  endpoint: string | null | undefined,
  sessionId: string,
  device: PushDevice,
): Promise<PushRegistration> {
  if (!endpoint) return { status: "skipped", reason: "no endpoint" };
  if (device.platform === "web") return { status: "skipped", reason: "web" };
  if (!device.isDevice) return { status: "skipped", reason: "not a device" };
  try {
    let permission = await device.getPermission();
    if (permission === "undetermined") permission = await device.requestPermission();
    if (permission !== "granted") return { status: "skipped", reason: "permission denied" };
    const token = await device.getToken();
    const response = await device.post(endpoint, { session_id: sessionId, token, platform: device.platform });
    if (response.status < 200 || response.status >= 300) return { status: "failed", reason: `HTTP ${response.status}` };
    return { status: "registered", token };
  } catch (error) {
    return { status: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
}
