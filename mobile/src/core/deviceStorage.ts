// The platform implementations of storage.ts's interfaces.
import AsyncStorage from "@react-native-async-storage/async-storage";
import * as SecureStore from "expo-secure-store";
import { Platform } from "react-native";

import type { KeyValue } from "./storage";

export const historyStorage: KeyValue = {
  getItem: (key) => AsyncStorage.getItem(key),
  setItem: (key, value) => AsyncStorage.setItem(key, value),
  removeItem: (key) => AsyncStorage.removeItem(key),
};

function webStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export const secretStorage: KeyValue =
  Platform.OS === "web"
    ? {
        getItem: async (key) => webStorage()?.getItem(key) ?? null,
        setItem: async (key, value) => webStorage()?.setItem(key, value),
        removeItem: async (key) => webStorage()?.removeItem(key),
      }
    : {
        getItem: (key) => SecureStore.getItemAsync(key),
        setItem: (key, value) => SecureStore.setItemAsync(key, value),
        removeItem: (key) => SecureStore.deleteItemAsync(key),
      };
