// The attempt timeline: one row per attempt, drawn as SVG on a shared time axis.
//
// A row starts when the client enters "connecting" and holds, in time order, the phases of that
// attempt (token, session, handshake, socket, register), the time it stayed connected, the
// disconnect or error that ended it, and the backoff wait that followed. The next attempt's row
// starts where the wait ended, so the picture reads as a staircase.

const SVG = "http://www.w3.org/2000/svg";
const PHASES = ["token", "session", "handshake", "socket", "register"];
const SHORT = { token: "tok", session: "ses", handshake: "hs", socket: "ws", register: "reg" };
const COLORS = {
  token: "#8b5cf6",
  session: "#0ea5e9",
  handshake: "#14b8a6",
  socket: "#6366f1",
  register: "#f59e0b",
  up: "#22c55e",
  wait: "url(#tl-hatch)",
  down: "#dc2626",
};
const MAX_ROWS = 8;
const ROW_HEIGHT = 46;
const ROW_HEIGHT_COMPACT = 58;
const AXIS_HEIGHT = 22;

/** Formats a duration in milliseconds for people: "12 ms", "1.4 s", "2m 05s". */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
}

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export class Timeline {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container;
    this.rows = [];
    this.origin = null;
    this.lastState = null;
    this.frame = 0;
    this.lastDraw = 0;
    new ResizeObserver(() => this.draw()).observe(container);
    this.draw();
  }

  /** Marks where a new client starts (after "log in again" or "connect again"). */
  newClient() {
    this.lastState = null;
  }

  get currentRow() {
    return this.rows[this.rows.length - 1];
  }

  closeOpenSegment(at) {
    const row = this.currentRow;
    const open = row?.segments[row.segments.length - 1];
    if (open && open.end === null) open.end = at;
  }

  /** Adds a disconnect/error mark to the current row, once per cause (an error and the
   * disconnect it causes often carry the same code). */
  mark(at, text, detail, failed = false) {
    const marks = this.currentRow.marks;
    if (marks.length && marks[marks.length - 1].text === text) return;
    marks.push({ at, text, detail, failed });
  }

  /** Feeds one client event (as given to a `listen` handler). */
  add(event) {
    const now = performance.now();
    if (event.type === "state") {
      const at = event.at ?? now;
      if (this.origin === null) this.origin = at;
      this.closeOpenSegment(at);
      if (event.state === "connecting") {
        if (this.lastState !== "connecting") {
          this.rows.push({ n: this.rows.length + 1, attempt: event.attempt, start: at, segments: [], marks: [] });
          if (this.rows.length > 50) this.rows.shift();
        }
        if (event.phase) this.currentRow.segments.push({ kind: event.phase, start: at, end: null });
      } else if (this.currentRow) {
        if (event.state === "connected") this.currentRow.segments.push({ kind: "up", start: at, end: null });
        if (event.state === "waiting") {
          this.currentRow.segments.push({ kind: "wait", start: at, end: null, planned: event.retryIn });
        }
        if (event.state === "closed") this.mark(at, "closed");
        if (event.state === "failed" && !this.currentRow.marks.some((m) => m.failed)) this.mark(at, "failed");
      }
      this.lastState = event.state;
    } else if (event.type === "disconnect" && this.currentRow) {
      this.mark(now, event.code, event.reason);
    } else if (event.type === "error" && this.currentRow) {
      this.mark(now, event.status ? `${event.code} ${event.status}` : event.code, event.message);
    } else if (event.type === "failed" && this.currentRow) {
      // The error event before it already named the code and status.
      this.mark(now, "failed", event.reason, true);
    }
    this.schedule();
  }

  /** Redraws on the next animation frame, and keeps redrawing (4 per second) while time runs. */
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  isRunning() {
    return this.lastState !== null && this.lastState !== "failed" && this.lastState !== "closed";
  }

  draw() {
    const now = performance.now();
    this.lastDraw = now;
    const width = Math.max(280, Math.floor(this.container.clientWidth || 600));
    const compact = width < 520;
    const rows = this.rows.slice(-MAX_ROWS);
    this.container.replaceChildren();

    if (rows.length === 0) {
      const p = document.createElement("p");
      p.className = "empty";
      p.textContent = "Attempts will appear here.";
      this.container.append(p);
      return;
    }

    const left = 34;
    const right = 10;
    const t0 = rows[0].start;
    const lastRow = rows[rows.length - 1];
    const lastOpen = lastRow.segments.some((s) => s.end === null);
    const lastMark = Math.max(
      ...rows.flatMap((r) => [r.start, ...r.segments.map((s) => s.end ?? now), ...r.marks.map((m) => m.at)]),
    );
    const t1 = Math.max(t0 + 1000, this.isRunning() || lastOpen ? now : lastMark + 200);
    const scale = (width - left - right) / (t1 - t0);
    const x = (t) => left + (t - t0) * scale;
    const rowHeight = compact ? ROW_HEIGHT_COMPACT : ROW_HEIGHT;
    const height = rows.length * rowHeight + AXIS_HEIGHT + 4;

    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": "Timeline of connection attempts",
    });
    const defs = el("defs");
    const hatch = el("pattern", { id: "tl-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    hatch.append(el("rect", { width: 6, height: 6, fill: "#e2e8f0" }), el("rect", { width: 3, height: 6, fill: "#cbd5e1" }));
    defs.append(hatch);
    svg.append(defs);

    rows.forEach((row, index) => {
      const top = index * rowHeight + 2;
      const g = el("g", { class: "row" });
      if (index % 2 === 0) g.append(el("rect", { x: 0, y: top - 2, width, height: rowHeight, fill: "#fafbfc" }));
      g.append(el("text", { x: 4, y: top + 13, "font-size": 11, fill: "#6b7280", "font-weight": 600 }, `#${row.n}`));
      g.append(el("line", { x1: left, x2: width - right, y1: top + 9, y2: top + 9, stroke: "#eef0f3" }));

      for (const seg of row.segments) {
        const end = seg.end ?? now;
        const x0 = x(seg.start);
        const w = Math.max(2, x(end) - x0);
        const rect = el("rect", { x: x0, y: top + 2, width: w, height: 14, rx: 2, fill: COLORS[seg.kind] ?? "#9ca3af" });
        const label = seg.kind === "up" ? "connected" : seg.kind === "wait" ? "backoff" : seg.kind;
        const planned = seg.planned !== undefined ? ` (planned ${formatDuration(seg.planned)})` : "";
        rect.append(el("title", {}, `${label}: ${formatDuration(end - seg.start)}${planned}`));
        g.append(rect);
      }
      for (const mark of row.marks) {
        const mx = x(mark.at);
        g.append(el("line", { x1: mx, x2: mx, y1: top, y2: top + 18, stroke: COLORS.down, "stroke-width": 2 }));
        const title = el("title", {}, `${mark.text}${mark.detail ? `: ${mark.detail}` : ""}`);
        const cross = el("text", { x: mx + 3, y: top + 12, "font-size": 11, fill: COLORS.down, "font-weight": 700 }, "\u2715");
        cross.append(title);
        g.append(cross);
      }

      // The summary: each phase's duration, then how the attempt ended and the wait after it
      // (on narrow screens the outcome gets a line of its own).
      const text = el("text", { x: left, y: top + 33, "font-size": compact ? 10 : 11, fill: "#374151" });
      const outcome = compact ? el("text", { x: left, y: top + 47, "font-size": 10, fill: "#374151" }) : text;
      let target = text;
      const fmt = compact ? (ms) => formatDuration(ms).replace(" ", "") : formatDuration;
      const part = (label, color, value) => {
        if (target.childNodes.length) target.append(el("tspan", { fill: "#9ca3af" }, " \u00b7 "));
        target.append(el("tspan", { fill: color, "font-weight": 600 }, label), el("tspan", {}, ` ${value}`));
      };
      for (const phase of PHASES) {
        const seg = row.segments.find((s) => s.kind === phase);
        if (seg) part(compact ? SHORT[phase] : phase, COLORS[phase], fmt((seg.end ?? now) - seg.start));
      }
      target = outcome;
      const up = row.segments.find((s) => s.kind === "up");
      if (up) part("up", "#15803d", fmt((up.end ?? now) - up.start));
      for (const mark of row.marks) part("\u2715", COLORS.down, mark.text);
      const wait = row.segments.find((s) => s.kind === "wait");
      if (wait) part("wait", "#64748b", fmt((wait.end ?? now) - wait.start));
      g.append(text);
      if (outcome !== text) g.append(outcome);
      svg.append(g);
    });

    // Time axis, in seconds since the first attempt shown.
    const axisY = rows.length * rowHeight + 4;
    svg.append(el("line", { x1: left, x2: width - right, y1: axisY, y2: axisY, stroke: "#d1d5db" }));
    const spanSec = (t1 - t0) / 1000;
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800];
    const maxTicks = Math.max(2, Math.floor((width - left - right) / 60));
    const step = steps.find((s) => spanSec / s <= maxTicks) ?? 3600;
    const base = (t0 - (this.origin ?? t0)) / 1000;
    for (let s = Math.ceil(base / step) * step; s <= base + spanSec + 1e-9; s += step) {
      const tx = x(t0 + (s - base) * 1000);
      svg.append(el("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + 4, stroke: "#9ca3af" }));
      svg.append(el("text", { x: tx, y: axisY + 15, "font-size": 10, fill: "#6b7280", "text-anchor": "middle" }, `${+s.toFixed(1)} s`));
    }
    this.container.append(svg);

    if (this.isRunning() || lastOpen) {
      clearTimeout(this.tick);
      this.tick = setTimeout(() => this.schedule(), 250);
    }
  }
}
