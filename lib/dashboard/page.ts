/**
 * The dashboard page of `ecl serve` (`GET /`) and its security headers. The page is a shell: no
 * data is ever written into markup; the script (`/dashboard.js`, served from the bundle) fetches
 * `/api/…` and sets text with `textContent`. The Content-Security-Policy allows only this
 * server's script, style and data, no inline script and no other host.
 * @module
 */
import { VERSION } from "../version.ts";

/** Path of the dashboard script. */
export const SCRIPT_PATH = "/dashboard.js";
/** Path of the dashboard style sheet. */
export const STYLE_PATH = "/dashboard.css";

/** Content-Security-Policy of every dashboard and API response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers of every dashboard and API response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
};

/** The HTML of `GET /`: fixed text, no data. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ecl dashboard</title>
<link rel="stylesheet" href="${STYLE_PATH}">
<script src="${SCRIPT_PATH}" defer></script>
</head>
<body>
<header>
<h1>ecl</h1>
<p id="status" role="status">loading…</p>
</header>
<div id="alerts" aria-live="polite"></div>
<main id="groups"></main>
<footer>ecl ${VERSION} · read-only · <a href="/api/groups">/api/groups</a> · <a href="/api/counts">/api/counts</a> · <a href="/api/history">/api/history</a> · <a href="/metrics">/metrics</a></footer>
<noscript><p>The dashboard needs JavaScript; the same data is at /api/counts.</p></noscript>
</body>
</html>
`;

/** The dashboard's own styles (uPlot's come first, from the generated assets). System fonts only. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --fg: #1d2228; --muted: #667; --bg: #f6f7f9; --card: #fff;
  --line: #dde1e6; --accent: #2f6fdf; --bad-bg: #fde8e8; --bad-fg: #8a1010; --warn-bg: #fff4d6;
  --warn-fg: #6b4a00; }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7eb; --muted: #99a; --bg: #14171b;
  --card: #1d2126; --line: #333a42; --accent: #6aa0ff; --bad-bg: #4a1c1c; --bad-fg: #ffc9c9;
  --warn-bg: #433511; --warn-fg: #ffe7a6; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 0 1.5rem 1.5rem; background: var(--bg); color: var(--fg);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
h1 { font-size: 1.4rem; margin: .8rem 0; }
h2 { font-size: 1.15rem; margin: 1.2rem 0 .5rem; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
#status { color: var(--muted); margin: 0; }
.alert { padding: .5rem .8rem; border-radius: 6px; margin: .4rem 0; font-weight: 600; }
.alert.bad { background: var(--bad-bg); color: var(--bad-fg); }
.alert.warn { background: var(--warn-bg); color: var(--warn-fg); }
.interval { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: .8rem 1rem; margin: 0 0 1rem; }
.slots { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.slot h4 { margin: 0 0 .3rem; font-size: .9rem; }
.span { color: var(--muted); font-size: .85rem; margin: 0 0 .3rem; }
.progress { height: 6px; background: var(--line); border-radius: 3px; overflow: hidden;
  margin: 0 0 .4rem; }
.progress > div { height: 100%; width: 0; background: var(--accent); }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td { padding: .15rem .3rem; border-top: 1px solid var(--line); vertical-align: top; }
td.event { overflow-wrap: anywhere; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas,
  monospace; font-size: .85rem; }
td.count { text-align: right; width: 7rem; font-variant-numeric: tabular-nums; }
.more { color: var(--muted); font-size: .85rem; margin: .3rem 0 0; }
.tools { display: flex; gap: .8rem; align-items: center; margin: 0 0 .5rem; flex-wrap: wrap; }
.tools input { font: inherit; padding: .2rem .4rem; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg); color: var(--fg); min-width: 14rem; }
.tools .distinct { color: var(--muted); }
.chart { margin-top: .8rem; overflow-x: auto; }
.chart .empty { color: var(--muted); font-size: .85rem; }
.u-legend { font-size: .8rem; }
.u-legend .u-label { overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .8rem; margin-top: 2rem; }
footer a { color: inherit; }
`;
