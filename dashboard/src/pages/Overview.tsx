import { useState } from "react";
import { download, get, type DailyRow, type IntentRow, type Overview } from "../api";
import { HBarChart, StackedDailyChart } from "../components/Charts";
import { RangeFilters, type RangeFilter } from "../components/Filters";
import { daysAgo, isoDay, num, pct } from "../format";
import { useLoad } from "../hooks";
import { useI18n } from "../i18n";

interface OverviewData {
  overview: Overview;
  daily: DailyRow[];
  intents: IntentRow[];
}

function Kpi({ id, label, value, sub }: { id: string; label: string; value: string; sub?: string }) {
  return (
    <div className="kpi card" data-kpi={id}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      {sub && <div className="kpi-sub">{sub}</div>}
    </div>
  );
}

export function OverviewPage() {
  const { t } = useI18n();
  const [filter, setFilter] = useState<RangeFilter>({ start: daysAgo(29), end: isoDay(new Date()), channel: "" });
  const query = { start: filter.start, end: filter.end, channel: filter.channel };
  const { data, error } = useLoad<OverviewData>(
    async () => {
      const [overview, daily, intents] = await Promise.all([
        get<Overview>("/api/analytics/overview", query),
        get<DailyRow[]>("/api/analytics/daily", query),
        get<IntentRow[]>("/api/analytics/intents", query),
      ]);
      return { overview, daily, intents };
    },
    [filter.start, filter.end, filter.channel],
  );
  const o = data?.overview;

  return (
    <div className="page">
      <div className="page-head">
        <h1>{t.overview}</h1>
        <div className="row">
          <RangeFilters value={filter} onChange={setFilter} />
          <button
            type="button"
            data-testid="export-csv"
            onClick={() => void download("/api/analytics/export.csv", query, `easyflow-${filter.start}-${filter.end}.csv`)}
          >
            {t.exportCsv}
          </button>
        </div>
      </div>
      {error && <div className="error">{error}</div>}
      {!o && !error && <div className="muted">{t.loading}</div>}
      {o && data && (
        <>
          <div className="kpis">
            <Kpi id="conversations" label={t.kpiConversations} value={String(o.conversations)} sub={`${t.kpiMessages}: ${o.messages}`} />
            <Kpi id="containment" label={t.kpiContainment} value={pct(o.containment_rate)} />
            <Kpi id="fallback" label={t.kpiFallback} value={pct(o.fallback_rate)} />
            <Kpi id="handoff" label={t.kpiHandoff} value={pct(o.handoff_rate)} />
            <Kpi id="csat" label={t.kpiCsat} value={o.csat_avg === null ? "—" : num(o.csat_avg, 2)} sub={`${o.csat_count} ${t.ratings}`} />
            <Kpi
              id="payment"
              label={t.kpiPayment}
              value={pct(o.payment_conversion)}
              sub={t.paidOf(o.payments_paid, o.payment_links)}
            />
            <Kpi
              id="updates"
              label={t.kpiUpdates}
              value={String(o.order_updates_sent)}
              sub={t.updatesOf(o.order_updates_opt_ins, o.order_updates_opt_outs)}
            />
            <Kpi
              id="prevented"
              label={t.kpiPrevented}
              value={o.status_questions_prevented === null ? "—" : String(o.status_questions_prevented)}
              sub={t.preventedOf(pct(o.status_question_rate_before_updates), pct(o.status_question_rate_after_updates))}
            />
            <Kpi
              id="turns"
              label={t.kpiAvgTurns}
              value={num(o.avg_turns, 1)}
              sub={o.avg_first_reply_ms === null ? undefined : `${t.kpiFirstReply}: ${num(o.avg_first_reply_ms)} ms`}
            />
          </div>
          <section className="card">
            <h2>{t.perDay}</h2>
            <StackedDailyChart
              rows={data.daily}
              emptyText={t.noData}
              labels={{ title: t.perDay, day: t.day, total: t.total }}
              start={filter.start}
              end={filter.end}
            />
          </section>
          <div className="two-col">
            <section className="card">
              <h2>{t.rates}</h2>
              <HBarChart
                testId="rates-chart"
                max={1}
                emptyText={t.noData}
                items={[
                  { label: t.kpiContainment, value: o.containment_rate ?? 0, display: pct(o.containment_rate), color: "#16a34a" },
                  { label: t.kpiFallback, value: o.fallback_rate ?? 0, display: pct(o.fallback_rate), color: "#dc2626" },
                  { label: t.kpiHandoff, value: o.handoff_rate ?? 0, display: pct(o.handoff_rate), color: "#f59e0b" },
                  {
                    label: t.kpiPayment,
                    value: o.payment_conversion ?? 0,
                    display: pct(o.payment_conversion),
                    color: "#7c3aed",
                  },
                  {
                    label: t.kpiCsat,
                    value: (o.csat_avg ?? 0) / 5,
                    display: o.csat_avg === null ? "—" : `${num(o.csat_avg, 2)} / 5`,
                    color: "#0ea5e9",
                  },
                ]}
              />
            </section>
            <section className="card">
              <h2>{t.topIntents}</h2>
              <HBarChart
                testId="intents-chart"
                emptyText={t.noData}
                items={data.intents.slice(0, 10).map((i) => ({
                  label: i.intent,
                  value: i.count,
                  display: String(i.count),
                  hint: `${t.confidence}: ${num(i.avg_confidence, 2)}`,
                }))}
              />
            </section>
          </div>
        </>
      )}
    </div>
  );
}
