// expo-notifications behind core/push.ts's PushDevice.
import Constants from "expo-constants";
import * as Device from "expo-device";
import * as Notifications from "expo-notifications";
import { Platform } from "react-native";

import { registerPushTokenWithBackend, type PermissionStatus, type PushDevice, type PushRegistration } from "./core/push";

function status(value: { status: string }): PermissionStatus {
  return value.status === "granted" ? "granted" : value.status === "denied" ? "denied" : "undetermined";
}

export const expoPushDevice: PushDevice = {
  isDevice: Device.isDevice,
  platform: Platform.OS,
  getPermission: async () => status(await Notifications.getPermissionsAsync()),
  requestPermission: async () => status(await Notifications.requestPermissionsAsync()),
  getToken: async () => {
    if (Platform.OS === "android") {
      await Notifications.setNotificationChannelAsync("default", {
        name: "default",
        importance: Notifications.AndroidImportance.DEFAULT,
      });
    }
    const projectId = (Constants.expoConfig?.extra?.eas as { projectId?: string } | undefined)?.projectId;
    return (await Notifications.getExpoPushTokenAsync(projectId ? { projectId } : undefined)).data;
  },
  post: async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status };
  },
};

/** Registers this device's push token for `sessionId`, when an endpoint is configured. */
export function registerForPushNotifications(endpoint: string | null, sessionId: string): Promise<PushRegistration> {
  // The server pushes what it sends on its own (an operator's reply, "paid");
  // while the app is open the chat already shows it, so no banner or sound.
  Notifications.setNotificationHandler({
    handleNotification: async () => ({
      shouldShowBanner: false,
      shouldShowList: true,
      shouldPlaySound: false,
      shouldSetBadge: false,
    }),
  });
  return registerPushTokenWithBackend(endpoint, sessionId, expoPushDevice);
}
