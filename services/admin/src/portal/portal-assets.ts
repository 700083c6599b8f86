import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** htmx from the htmx.org npm package, served as a file: no CDN, no build step. */
export function loadHtmx(): string {
  return readFileSync(createRequire(import.meta.url).resolve("htmx.org/dist/htmx.min.js"), "utf8");
}

/**
 * Every response of the portal carries this policy: scripts and styles only from the portal
 * itself (htmx and this stylesheet), no inline script or style, forms post only to it, and no
 * other site may frame it.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const PORTAL_CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #1f4fd1; --ok: #2e7d32; --bad: #c62828; --warn: #a15c00; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f6f7f9; }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #14213d; color: #fff; }
header a { color: #fff; text-decoration: none; }
header .brand { font-weight: 700; }
header .who { margin-left: auto; font-size: 12px; opacity: .85; }
header form { margin: 0; }
main { max-width: 1100px; margin: 1.2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; margin-bottom: 1rem; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { background: #f0f2f5; padding: .6rem; border-radius: 4px; overflow: auto; max-height: 28rem; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 3px; font-size: 12px; font-weight: 600; color: #fff; background: var(--muted); }
.status.ACTIVE, .status.SUCCEEDED, .status.succeeded { background: var(--ok); }
.status.PAUSED, .status.FAILED_RETRYING, .status.running, .status.queued { background: var(--warn); }
.status.DISABLED, .status.FAILED_TERMINAL, .status.failed { background: var(--bad); }
.notice { background: #e8f1ff; border: 1px solid #b7cdfa; padding: .6rem .8rem; border-radius: 4px; margin-bottom: 1rem; }
.errors { background: #fdecea; border: 1px solid #f5c2bd; padding: .6rem .8rem; border-radius: 4px; margin-bottom: 1rem; }
.secret { font-size: 14px; background: #fff8e1; border: 1px solid #f0d58a; padding: .6rem; word-break: break-all; }
form.inline { display: inline-flex; gap: .4rem; align-items: center; margin: 0 .6rem .4rem 0; }
label { display: block; margin: .4rem 0 .15rem; font-weight: 600; font-size: 12px; color: var(--muted); }
input[type=text], input[type=url], input[type=password], input[type=number], input[type=datetime-local], select, textarea { width: 100%; max-width: 34rem; padding: .35rem .45rem; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
form.inline input, form.inline select { width: auto; }
button { padding: .35rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; font: inherit; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.muted { color: var(--muted); }
svg.chart { display: block; max-width: 100%; height: auto; }
progress { width: 20rem; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.grid2 > * { min-width: 0; }
`;
