// Runtime app config: what app.config.ts put into `extra`, checked again.
import Constants from "expo-constants";

import { backendUrlProblem, normalizeBackendUrl } from "./core/backendUrl";

export interface AppConfig {
  shopName: string;
  rasaUrl: string;
  socketPath: string;
  release: boolean;
  /** Where the app registers its push token (not built on the backend yet); null: never. */
  pushRegisterUrl: string | null;
  colors: { primary: string; primaryDark: string };
}

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; problem: string };

export function readConfig(extra: Record<string, unknown> | undefined = Constants.expoConfig?.extra): ConfigResult {
  const value = extra ?? {};
  const colors = (value.colors ?? {}) as Partial<AppConfig["colors"]>;
  const config: AppConfig = {
    shopName: typeof value.shopName === "string" && value.shopName ? value.shopName : "Easy Flow",
    rasaUrl: normalizeBackendUrl(typeof value.rasaUrl === "string" ? value.rasaUrl : ""),
    socketPath: typeof value.socketPath === "string" && value.socketPath ? value.socketPath : "/socket.io/",
    release: value.release === true,
    pushRegisterUrl: typeof value.pushRegisterUrl === "string" && value.pushRegisterUrl ? value.pushRegisterUrl : null,
    colors: { primary: colors.primary ?? "#2f6fed", primaryDark: colors.primaryDark ?? "#7aa2ff" },
  };
  const problem = backendUrlProblem(config.rasaUrl, config.release);
  return problem ? { ok: false, problem } : { ok: true, config };
}
