// App configuration from the environment, so one codebase builds any shop's app:
//   EXPO_PUBLIC_RASA_URL     Rasa server with the web chat (socket.io) channel
//   EASYFLOW_SHOP_NAME       shown in the header and as the app name
//   EASYFLOW_PRIMARY_COLOR   accent colour (#rrggbb); EASYFLOW_PRIMARY_COLOR_DARK for dark mode
//   EASYFLOW_BUNDLE_ID       iOS bundle identifier / Android package
//   EASYFLOW_PUSH_REGISTER_URL  where the app registers its Expo push token:
//                            <rasa url>/webhooks/socketio/push (unset: never asks)
//   EAS_PROJECT_ID           the EAS project (eas init), needed for Expo push tokens
//   EASYFLOW_RELEASE=1       a store build (also implied by EAS_BUILD_PROFILE=production):
//                            a localhost or plain-http backend is refused here.
import type { ConfigContext, ExpoConfig } from "expo/config";

import { backendUrlProblem, normalizeBackendUrl } from "./src/core/backendUrl";

const env = process.env;
const release = env.EASYFLOW_RELEASE === "1" || env.EAS_BUILD_PROFILE === "production";
const rasaUrl = normalizeBackendUrl(env.EXPO_PUBLIC_RASA_URL || "http://localhost:5005");
const problem = backendUrlProblem(rasaUrl, release);
if (problem) {
  throw new Error(`EXPO_PUBLIC_RASA_URL: ${problem}`);
}
const hex = /^#[0-9a-fA-F]{6}$/;
function colour(name: string, fallback: string): string {
  const value = env[name];
  if (value === undefined || value === "") return fallback;
  if (!hex.test(value)) throw new Error(`${name} must be #rrggbb, got ${JSON.stringify(value)}`);
  return value;
}
const shopName = env.EASYFLOW_SHOP_NAME || "Easy Flow";
const bundleId = env.EASYFLOW_BUNDLE_ID || "org.easyflow.shopper";

export default ({ config }: ConfigContext): ExpoConfig => ({
  ...config,
  name: shopName,
  slug: "easyflow-shopper",
  scheme: "easyflow",
  version: "0.1.0",
  orientation: "portrait",
  userInterfaceStyle: "automatic",
  ios: { bundleIdentifier: bundleId, supportsTablet: true },
  android: { package: bundleId },
  web: { bundler: "metro", output: "single" },
  plugins: ["expo-secure-store", "expo-localization", "expo-web-browser", "expo-notifications"],
  extra: {
    shopName,
    rasaUrl,
    socketPath: env.EASYFLOW_SOCKET_PATH || "/socket.io/",
    release,
    pushRegisterUrl: env.EASYFLOW_PUSH_REGISTER_URL || null,
    ...(env.EAS_PROJECT_ID ? { eas: { projectId: env.EAS_PROJECT_ID } } : {}),
    colors: {
      primary: colour("EASYFLOW_PRIMARY_COLOR", "#2f6fed"),
      primaryDark: colour("EASYFLOW_PRIMARY_COLOR_DARK", "#7aa2ff"),
    },
  },
});
