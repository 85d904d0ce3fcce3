/// <reference lib="dom" />
/**
 * The dashboard in the browser (bundled into `/dashboard.js` by `scripts/dashboard_assets.ts`).
 * Reads `/api/groups` once, then `/api/counts` and, after each boundary, `/api/history`; refreshes
 * by itself and pauses while the tab is hidden. Every piece of data goes into the page as text
 * (`textContent`, attribute values through the DOM): never as markup.
 * @module
 */
import uPlot from "uplot";
import type {
  CountsDocument,
  CountsInterval,
  CountsSlot,
  GroupsDocument,
  HistoryDocument,
} from "../api.ts";
import {
  alerts,
  chartData,
  clock,
  count,
  duration,
  progress,
  refreshMs,
  TOP_EVENTS,
} from "./view.ts";

const COLORS = [
  "#2f6fdf",
  "#e0582c",
  "#2a9d55",
  "#9b4fd1",
  "#d1a30f",
  "#17a2b8",
  "#d6336c",
  "#6c757d",
  "#8d6e63",
];

/** Create an element with a class and, optionally, text. */
function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The elements of one slot (last or current) of one card. */
interface SlotView {
  span: HTMLElement;
  bar?: HTMLElement;
  rows: HTMLTableSectionElement;
  more: HTMLElement;
}

/** One (group, interval) card. */
interface Card {
  group: string;
  interval: string;
  seconds: number;
  tools: boolean;
  filter: string;
  distinct?: HTMLElement;
  last: SlotView;
  current: SlotView;
  chart: HTMLElement;
  plot?: uPlot;
  plotLabels?: string;
  data?: CountsInterval;
  lastStart?: number | null;
}

const cards: Card[] = [];
let counts: CountsDocument | undefined;
let clockOffset = 0; // server time minus browser time, seconds
let timer: ReturnType<typeof setTimeout> | undefined;
let ticker: ReturnType<typeof setInterval> | undefined;
let period = 1000;
let refreshing = false;
let historyWanted = true;

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, {
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => undefined);
  if (body === undefined) throw new Error(`HTTP ${response.status}`);
  // A 503 that says nothing of Redis (too many distinct requests at once) is no document.
  if (!response.ok && body.redisUp === undefined) {
    throw new Error(typeof body.error === "string" ? body.error : `HTTP ${response.status}`);
  }
  return body as T;
}

function slotView(parent: HTMLElement, title: string, withBar: boolean): SlotView {
  const box = element("div", "slot");
  box.append(element("h4", undefined, title));
  const span = element("p", "span");
  box.append(span);
  let bar: HTMLElement | undefined;
  if (withBar) {
    const track = element("div", "progress");
    bar = element("div");
    track.append(bar);
    box.append(track);
  }
  const table = element("table");
  const rows = element("tbody");
  table.append(rows);
  box.append(table);
  const more = element("p", "more");
  box.append(more);
  parent.append(box);
  return { span, bar, rows, more };
}

function buildCards(groups: GroupsDocument): void {
  const main = document.getElementById("groups")!;
  main.replaceChildren();
  for (const group of groups.groups) {
    const section = element("section", "group");
    section.dataset.group = group.name;
    section.append(element("h2", undefined, group.name));
    for (const interval of group.intervals) {
      const root = element("div", "interval");
      root.dataset.group = group.name;
      root.dataset.interval = interval.name;
      root.append(element("h3", undefined, `every ${interval.name}`));
      const tools = group.autoDeclareEvents || group.events.length > TOP_EVENTS;
      const card: Card = {
        group: group.name,
        interval: interval.name,
        seconds: interval.seconds,
        tools,
        filter: "",
      } as Card;
      if (tools) {
        const row = element("div", "tools");
        const input = element("input");
        input.type = "search";
        input.placeholder = "filter events";
        input.setAttribute("aria-label", `filter events of ${group.name} ${interval.name}`);
        input.addEventListener("input", () => {
          card.filter = input.value;
          scheduleRefresh(150);
        });
        card.distinct = element("span", "distinct");
        row.append(input, card.distinct);
        root.append(row);
      }
      const slots = element("div", "slots");
      card.last = slotView(slots, "Last finished period", false);
      card.current = slotView(slots, "Current period", true);
      root.append(slots);
      card.chart = element("div", "chart");
      card.chart.append(element("p", "empty", "chart: waiting for finished periods…"));
      root.append(card.chart);
      section.append(root);
      cards.push(card);
    }
    main.append(section);
  }
}

function fillSlot(view: SlotView, slot: CountsSlot): void {
  const rows = slot.events.map(({ event, count: value }) => {
    const row = element("tr");
    row.dataset.event = event;
    row.append(element("td", "event", event), element("td", "count", count(value)));
    return row;
  });
  for (const { event, value } of slot.invalid) {
    const row = element("tr");
    row.append(element("td", "event", event), element("td", "count", `not a count: ${value}`));
    rows.push(row);
  }
  view.rows.replaceChildren(...rows);
  const notes = [`total ${count(slot.total)}`];
  if (slot.matched > slot.events.length) {
    notes.unshift(`top ${slot.events.length} of ${count(slot.matched)} events`);
  }
  if (slot.events.length === 0) notes.unshift("no events");
  view.more.textContent = notes.join(" · ");
}

function spanText(slot: CountsSlot, now: number): string {
  if (slot.start === null || slot.end === null) return "no finished period yet";
  const text = `${clock(slot.start, now)} – ${clock(slot.end, now)}`;
  return slot.complete === false
    ? `${text} (${duration(slot.end - slot.start)}: the master missed boundaries)`
    : text;
}

function showProgress(): void {
  const now = Date.now() / 1000 + clockOffset;
  for (const card of cards) {
    const current = card.data?.current;
    if (current === undefined) continue;
    if (current.start === null) {
      card.current.span.textContent = "not started: no master has rotated yet";
      continue;
    }
    const { elapsed, fraction } = progress(current.start, card.seconds, now);
    card.current.span.textContent = `since ${clock(current.start, now)} · ${duration(elapsed)} of ${
      duration(card.seconds)
    } (${Math.floor(fraction * 100)}%)`;
    card.current.bar!.style.width = `${(fraction * 100).toFixed(1)}%`;
  }
}

function showAlerts(fetchError?: string): void {
  const box = document.getElementById("alerts")!;
  box.replaceChildren(
    ...alerts(fetchError === undefined ? counts : undefined, fetchError).map(({ level, text }) =>
      element("p", `alert ${level}`, text)
    ),
  );
  const status = document.getElementById("status")!;
  if (counts === undefined) {
    status.textContent = fetchError === undefined ? "loading…" : "no data";
    return;
  }
  const parts = [`updated ${clock(counts.now)}`, `refresh every ${duration(period / 1000)}`];
  if (counts.leaseHolder !== null) parts.push(`master ${counts.leaseHolder}`);
  status.textContent = parts.join(" · ");
}

function showCounts(document: CountsDocument, filtered: Map<Card, CountsInterval>): void {
  const byKey = new Map(
    document.intervals.map((entry) => [`${entry.group}\n${entry.interval}`, entry]),
  );
  for (const card of cards) {
    const entry = filtered.get(card) ?? byKey.get(`${card.group}\n${card.interval}`);
    if (entry === undefined) continue;
    if (card.lastStart !== undefined && card.lastStart !== entry.last.start) historyWanted = true;
    card.lastStart = entry.last.start;
    card.data = entry;
    card.last.span.textContent = spanText(entry.last, document.now);
    fillSlot(card.last, entry.last);
    fillSlot(card.current, entry.current);
    if (card.distinct) {
      card.distinct.textContent = `${count(entry.last.distinct)} distinct events last period · ${
        count(entry.current.distinct)
      } now`;
    }
  }
}

function showHistory(history: HistoryDocument): void {
  const byKey = new Map(
    history.intervals.map((entry) => [`${entry.group}\n${entry.interval}`, entry]),
  );
  for (const card of cards) {
    const entry = byKey.get(`${card.group}\n${card.interval}`);
    if (entry === undefined) continue;
    const data = chartData(entry.periods, entry.seconds);
    if (data.starts.length < 2 || data.labels.length === 0) {
      card.plot?.destroy();
      card.plot = undefined;
      const waiting = entry.periods.length === 0
        ? "chart: waiting for finished periods…"
        : `chart: ${entry.periods.length} finished period(s) so far, no counts`;
      card.chart.replaceChildren(element("p", "empty", waiting));
      continue;
    }
    const aligned = [data.starts, ...data.values] as uPlot.AlignedData;
    const key = JSON.stringify(data.labels);
    if (card.plot !== undefined && card.plotLabels === key) {
      card.plot.setData(aligned);
      continue;
    }
    card.plot?.destroy();
    card.chart.replaceChildren();
    card.plotLabels = key;
    const width = Math.max(300, card.chart.clientWidth || 600);
    card.plot = new uPlot(
      {
        width,
        height: 220,
        cursor: { drag: { x: false, y: false }, points: { size: 7 } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.08] } },
        axes: [
          { stroke: "#889", grid: { stroke: "rgba(128,128,128,.15)" } },
          { stroke: "#889", grid: { stroke: "rgba(128,128,128,.15)" } },
        ],
        series: [
          { label: `period (${card.interval})`, value: (_u, v) => v == null ? "–" : clock(v) },
          ...data.labels.map((label, index) => ({
            label,
            stroke: COLORS[index % COLORS.length],
            width: 1.5,
            spanGaps: false,
            points: { show: data.starts.length <= 60 },
            value: (_u: uPlot, v: number | null) => v == null ? "–" : count(v),
          })),
        ],
      },
      aligned,
      card.chart,
    );
  }
}

async function refresh(): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  try {
    const all = await getJson<CountsDocument>(`/api/counts?top=${TOP_EVENTS}`);
    const filtered = new Map<Card, CountsInterval>();
    if (all.redisUp) {
      for (const card of cards.filter((c) => c.filter !== "")) {
        const query = new URLSearchParams({
          group: card.group,
          interval: card.interval,
          top: String(TOP_EVENTS),
          filter: card.filter,
        });
        const one = await getJson<CountsDocument>(`/api/counts?${query}`);
        if (one.intervals[0]) filtered.set(card, one.intervals[0]);
      }
    }
    counts = all;
    clockOffset = all.now - Date.now() / 1000;
    showCounts(all, filtered);
    showAlerts();
    showProgress();
    if (historyWanted && all.redisUp) {
      historyWanted = false;
      showHistory(await getJson<HistoryDocument>("/api/history"));
    }
  } catch (error) {
    showAlerts(error instanceof Error ? error.message : String(error));
  } finally {
    refreshing = false;
  }
}

function scheduleRefresh(delay = period): void {
  clearTimeout(timer);
  if (document.hidden) return;
  timer = setTimeout(async () => {
    await refresh();
    scheduleRefresh();
  }, delay);
}

function onVisibility(): void {
  clearInterval(ticker);
  if (document.hidden) {
    clearTimeout(timer); // paused: no requests while nobody looks
    return;
  }
  historyWanted = true;
  ticker = setInterval(showProgress, 1000);
  scheduleRefresh(0);
}

async function start(): Promise<void> {
  let groups: GroupsDocument;
  try {
    groups = await getJson<GroupsDocument>("/api/groups");
  } catch (error) {
    showAlerts(error instanceof Error ? error.message : String(error));
    setTimeout(start, 5000);
    return;
  }
  const shortest = Math.min(...groups.groups.flatMap((g) => g.intervals.map((i) => i.seconds)));
  period = refreshMs(shortest);
  buildCards(groups);
  document.addEventListener("visibilitychange", onVisibility);
  addEventListener("resize", () => {
    for (const card of cards) {
      card.plot?.setSize({ width: Math.max(300, card.chart.clientWidth), height: 220 });
    }
  });
  onVisibility();
}

start();
