// Shop settings a merchant changes without a developer: the name and greeting
// the chat widget shows, operators' working hours, the return window and the
// languages. Every role reads them; only admins save. A save carries the
// version it was edited from, and the api refuses it (409) when someone else
// saved in between, so two admins never overwrite each other silently.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  ApiError,
  get,
  loadSession,
  put,
  WEEKDAYS,
  type ShopLanguage,
  type ShopSettings,
  type ShopSettingsUpdate,
  type Weekday,
} from "../api";
import { OutcomeLine, type Outcome } from "../components/People";
import { dateTime } from "../format";
import { useLoad } from "../hooks";
import { useI18n, type Dict } from "../i18n";

const LANGUAGES: ShopLanguage[] = ["ru", "en"];
const NAME_MAX = 80;
const GREETING_MAX = 500;

interface DayForm {
  closed: boolean;
  opens: string;
  closes: string;
}

interface Form {
  name: string;
  greeting: Record<ShopLanguage, string>;
  languages: ShopLanguage[];
  returnWindow: string;
  timezone: string;
  days: Record<Weekday, DayForm>;
}

function dayForm(value: string): DayForm {
  const match = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(value);
  if (!match) return { closed: true, opens: "09:00", closes: "18:00" };
  // A time input cannot hold 24:00: midnight as an end is 00:00 there.
  return { closed: false, opens: match[1], closes: match[2] === "24:00" ? "00:00" : match[2] };
}

function toForm(settings: ShopSettings): Form {
  const days = {} as Record<Weekday, DayForm>;
  for (const day of WEEKDAYS) days[day] = dayForm(settings.working_hours.days[day]);
  return {
    name: settings.name ?? "",
    greeting: { ru: settings.greeting.ru ?? "", en: settings.greeting.en ?? "" },
    languages: [...settings.languages],
    returnWindow: String(settings.return_window_days),
    timezone: settings.working_hours.timezone,
    days,
  };
}

function toBody(form: Form, version: number): ShopSettingsUpdate {
  const days = {} as Record<Weekday, string>;
  for (const day of WEEKDAYS) {
    const d = form.days[day];
    days[day] = d.closed ? "closed" : `${d.opens}-${d.closes === "00:00" ? "24:00" : d.closes}`;
  }
  const returnWindow = Number(form.returnWindow);
  return {
    version,
    name: form.name,
    greeting: form.greeting,
    languages: LANGUAGES.filter((lang) => form.languages.includes(lang)),
    return_window_days: form.returnWindow.trim() && Number.isFinite(returnWindow) ? returnWindow : (null as unknown as number),
    working_hours: { timezone: form.timezone, days },
  };
}

interface FieldError {
  loc?: unknown[];
  type?: string;
  msg?: string;
  ctx?: { max_length?: number };
}

/** Which form field an api error names, as a label; its key marks the input. */
function fieldOf(loc: unknown[], t: Dict): { key: string; label: string } {
  const path = loc.slice(1).map(String);
  const [first, second, third] = path;
  if (first === "greeting" && second) return { key: `greeting.${second}`, label: t.greetingIn(t.languageName[second] ?? second) };
  if (first === "working_hours" && second === "days" && third)
    return { key: `day.${third}`, label: `${t.workingHours}: ${t.weekdayLong[third] ?? third}` };
  if (first === "working_hours") return { key: "timezone", label: t.timezone };
  if (first === "name") return { key: "name", label: t.shopName };
  if (first === "return_window_days") return { key: "return_window_days", label: t.returnWindow };
  if (first === "languages") return { key: "languages", label: t.languages };
  return { key: path.join("."), label: path.join(".") };
}

function messageOf(error: FieldError, key: string, t: Dict): string {
  const msg = error.msg ?? "";
  if (key === "return_window_days") return t.returnRange;
  if (key === "languages" && error.type === "too_short") return t.pickLanguage;
  if (error.type === "string_too_short" || error.type === "missing") return t.required;
  if (error.type === "string_too_long") return t.tooLong(error.ctx?.max_length ?? 0);
  if (/unknown time zone/.test(msg)) return t.badTimezone;
  if (/opening must be before closing/.test(msg)) return t.badHours;
  if (/control characters/.test(msg)) return t.controlChars;
  return msg.replace(/^Value error, /, "");
}

interface Problems {
  conflict: boolean;
  fields: { key: string; text: string }[];
  other: string | null;
}

function problemsOf(err: unknown, t: Dict): Problems {
  const none: Problems = { conflict: false, fields: [], other: null };
  if (err instanceof ApiError && err.status === 409) return { ...none, conflict: true };
  if (err instanceof ApiError && err.status === 422 && Array.isArray(err.detail)) {
    const fields = (err.detail as FieldError[]).map((e) => {
      const field = fieldOf(Array.isArray(e.loc) ? e.loc : [], t);
      return { key: field.key, text: `${field.label}: ${messageOf(e, field.key, t)}` };
    });
    return { ...none, fields };
  }
  if (err instanceof ApiError && err.status === 403) return { ...none, other: t.shopReadOnly };
  return { ...none, other: `${t.error}: ${err instanceof Error ? err.message : String(err)}` };
}

function timezones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

export function ShopPage() {
  const { t, lang } = useI18n();
  const loaded = useLoad(() => get<ShopSettings>("/api/shop-settings"), []);
  const [current, setCurrent] = useState<ShopSettings | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [problems, setProblems] = useState<Problems | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [busy, setBusy] = useState(false);
  const canEdit = loadSession()?.role === "admin";
  const zones = useMemo(timezones, []);

  useEffect(() => {
    if (!loaded.data) return;
    setCurrent(loaded.data);
    setForm(toForm(loaded.data));
  }, [loaded.data]);

  const invalid = new Set(problems?.fields.map((f) => f.key) ?? []);
  const change = (next: Partial<Form>) => setForm((f) => (f ? { ...f, ...next } : f));
  const changeDay = (day: Weekday, next: Partial<DayForm>) =>
    setForm((f) => (f ? { ...f, days: { ...f.days, [day]: { ...f.days[day], ...next } } } : f));

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!form || !current) return;
    setBusy(true);
    setProblems(null);
    setOutcome(null);
    try {
      const saved = await put<ShopSettings>("/api/shop-settings", toBody(form, current.version));
      setCurrent(saved);
      setForm(toForm(saved));
      setOutcome({ ok: true, text: t.shopSaved(saved.version) });
    } catch (err) {
      setProblems(problemsOf(err, t));
    } finally {
      setBusy(false);
    }
  };

  const reload = () => {
    setProblems(null);
    setOutcome(null);
    loaded.reload();
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.shop}</h1>
      </div>
      {loaded.error && <div className="error">{`${t.error}: ${loaded.error}`}</div>}
      {!form && !loaded.error && <div className="muted">{t.loading}</div>}
      {form && current && (
        <form className="shop-form" onSubmit={save} data-testid="shop-form" data-version={current.version} aria-label={t.shop} noValidate>
          <div className="muted small" data-testid="shop-meta">
            {current.version === 0
              ? t.shopDefaults
              : t.shopUpdated(current.updated_by ?? "—", dateTime(current.updated_at, lang))}
          </div>
          {!canEdit && (
            <div className="notice small" role="status" data-testid="shop-read-only">
              {t.shopReadOnly}
            </div>
          )}
          <fieldset className="shop-fields" disabled={!canEdit || busy}>
            <section className="card">
              <label>
                {t.shopName}
                <input
                  name="name"
                  value={form.name}
                  maxLength={NAME_MAX}
                  aria-invalid={invalid.has("name")}
                  onChange={(e) => change({ name: e.target.value })}
                />
                <span className="muted small">{t.shopNameHint}</span>
              </label>
            </section>
            <section className="card">
              <h2>{t.languages}</h2>
              <div className="row wrap" role="group" aria-label={t.languages} aria-invalid={invalid.has("languages")}>
                {LANGUAGES.map((code) => (
                  <label key={code} className="check">
                    <input
                      type="checkbox"
                      name={`language-${code}`}
                      checked={form.languages.includes(code)}
                      onChange={(e) =>
                        change({
                          languages: e.target.checked
                            ? [...form.languages, code]
                            : form.languages.filter((l) => l !== code),
                        })
                      }
                    />
                    {t.languageName[code]}
                  </label>
                ))}
              </div>
            </section>
            <section className="card">
              <h2>{t.greeting}</h2>
              <p className="muted small">{t.greetingHint}</p>
              <div className="shop-greetings">
                {LANGUAGES.map((code) => (
                  <label key={code}>
                    {t.greetingIn(t.languageName[code])}
                    <textarea
                      name={`greeting-${code}`}
                      rows={3}
                      maxLength={GREETING_MAX}
                      value={form.greeting[code]}
                      aria-invalid={invalid.has(`greeting.${code}`)}
                      onChange={(e) => change({ greeting: { ...form.greeting, [code]: e.target.value } })}
                    />
                    <span className="muted small">{t.chars(form.greeting[code].length, GREETING_MAX)}</span>
                  </label>
                ))}
              </div>
            </section>
            <section className="card">
              <label>
                {t.returnWindow}
                <input
                  name="return_window_days"
                  type="number"
                  min={1}
                  max={365}
                  step={1}
                  value={form.returnWindow}
                  aria-invalid={invalid.has("return_window_days")}
                  onChange={(e) => change({ returnWindow: e.target.value })}
                />
                <span className="muted small">{t.returnWindowHint}</span>
              </label>
            </section>
            <section className="card wide">
              <h2>{t.workingHours}</h2>
              <label className="shop-timezone">
                {t.timezone}
                <input
                  name="timezone"
                  list="shop-timezones"
                  value={form.timezone}
                  aria-invalid={invalid.has("timezone")}
                  onChange={(e) => change({ timezone: e.target.value })}
                />
                <span className="muted small">{t.timezoneHint}</span>
              </label>
              <datalist id="shop-timezones">
                {zones.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
              <table className="table compact shop-hours">
                <tbody>
                  {WEEKDAYS.map((day) => {
                    const d = form.days[day];
                    const long = t.weekdayLong[day];
                    return (
                      <tr key={day} data-day={day} aria-invalid={invalid.has(`day.${day}`)}>
                        <th scope="row">{t.weekday[day]}</th>
                        <td>
                          <label className="check">
                            <input
                              type="checkbox"
                              aria-label={t.dayOffOn(long)}
                              checked={d.closed}
                              onChange={(e) => changeDay(day, { closed: e.target.checked })}
                            />
                            {t.dayOff}
                          </label>
                        </td>
                        <td>
                          <input
                            type="time"
                            aria-label={t.opensOn(long)}
                            value={d.opens}
                            disabled={d.closed}
                            onChange={(e) => changeDay(day, { opens: e.target.value })}
                          />
                        </td>
                        <td>
                          <input
                            type="time"
                            aria-label={t.closesOn(long)}
                            value={d.closes}
                            disabled={d.closed}
                            onChange={(e) => changeDay(day, { closes: e.target.value })}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <p className="muted small">{t.midnightHint}</p>
            </section>
          </fieldset>
          {problems?.conflict && (
            <div className="error" role="alert" data-testid="shop-conflict">
              <div>{t.shopConflict}</div>
              <button type="button" onClick={reload}>
                {t.reloadSettings}
              </button>
            </div>
          )}
          {problems && problems.fields.length > 0 && (
            <div className="error" role="alert" data-testid="shop-errors">
              <div>{t.fixFields}</div>
              <ul>
                {problems.fields.map((f, i) => (
                  <li key={`${f.key}-${i}`}>{f.text}</li>
                ))}
              </ul>
            </div>
          )}
          {problems?.other && (
            <div className="error" role="alert" data-testid="shop-errors">
              {problems.other}
            </div>
          )}
          <OutcomeLine outcome={outcome} testId="shop-outcome" />
          {canEdit && (
            <div className="row">
              <button type="submit" className="primary" disabled={busy}>
                {t.saveShop}
              </button>
            </div>
          )}
        </form>
      )}
    </div>
  );
}
