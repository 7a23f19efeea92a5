// The api's refusals as sentences for people: its `detail` is English and
// sometimes FastAPI's list of field errors, so the pages that change users and
// keys map the ones they can meet to the dictionary.
import { ApiError } from "./api";
import type { Dict } from "./i18n";

interface FieldError {
  loc?: unknown[];
  type?: string;
  msg?: string;
  ctx?: { min_length?: number };
}

function policyProblem(problem: string, t: Dict): string {
  const shorter = /^shorter than (\d+) characters$/.exec(problem);
  if (shorter) return t.pwShorter(shorter[1]);
  if (problem === "a common password") return t.pwCommon;
  if (problem === "the same as the username") return t.pwUsername;
  return problem;
}

function fieldError(errors: FieldError[], t: Dict): string | null {
  for (const error of errors) {
    const field = Array.isArray(error.loc) ? error.loc[error.loc.length - 1] : undefined;
    if ((field === "password" || field === "new_password") && error.type === "string_too_short") {
      return t.passwordTooShort(error.ctx?.min_length ?? 8);
    }
    if (field === "username") return t.badUsername;
  }
  const first = errors[0];
  return first?.msg ? `${t.error}: ${first.msg}` : null;
}

/** A clear message for a failed call on the users, keys and audit pages. */
export function explain(err: unknown, t: Dict): string {
  if (!(err instanceof ApiError)) return `${t.error}: ${err instanceof Error ? err.message : String(err)}`;
  const detail = typeof err.detail === "string" ? err.detail : "";
  if (err.status === 403) return t.adminOnly;
  if (err.status === 409) {
    const exists = /^user '(.+)' already exists$/.exec(detail);
    if (exists) return t.userExists(exists[1]);
    if (detail === "you cannot disable yourself") return t.cannotDisableSelf;
    if (/last active admin/.test(detail)) return t.lastAdmin;
    if (detail === "API key already revoked") return t.keyAlreadyRevoked;
  }
  if (err.status === 404 && detail === "API key not found") return t.keyNotFound;
  if (err.status === 422) {
    if (detail.startsWith("password is ")) {
      const problems = detail.slice("password is ".length).split("; ");
      return t.weakPassword(problems.map((p) => policyProblem(p, t)).join("; "));
    }
    if (Array.isArray(err.detail)) {
      const message = fieldError(err.detail as FieldError[], t);
      if (message) return message;
    }
  }
  return `${t.error}: ${err.message}`;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.status === 403;
}
