// Device storage behind two small interfaces, so the chat logic is tested with
// in-memory maps: `KeyValue` for history (AsyncStorage; localStorage on web) and
// the same shape for secrets (expo-secure-store; localStorage on web, where the
// browser offers nothing better and the widget does the same).

export interface KeyValue {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

export class MemoryKeyValue implements KeyValue {
  readonly data = new Map<string, string>();

  async getItem(key: string): Promise<string | null> {
    return this.data.get(key) ?? null;
  }

  async setItem(key: string, value: string): Promise<void> {
    this.data.set(key, value);
  }

  async removeItem(key: string): Promise<void> {
    this.data.delete(key);
  }
}

/** Secure-store keys allow only [A-Za-z0-9._-]. */
export function sessionKey(conversationId: string): string {
  return `easyflow.session.${conversationId.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

export const CONVERSATIONS_KEY = "easyflow.conversations";
export const ACTIVE_KEY = "easyflow.active";
export const USER_KEY = "easyflow.user_id";
