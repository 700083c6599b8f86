import type { CatalogEntry } from "@novatrade/event-catalog";
import type { EndpointConfig } from "@novatrade/endpoint-config";
import type { EndpointHealthBody } from "../endpoint-status.js";
import type { AttemptItem, DeliveryItem } from "../history-store.js";
import type { ReplayJob } from "../replay-job-store.js";
import { attemptsChart } from "./attempts-chart.js";
import { html, trusted, type Html } from "./html.js";
import type { PortalSession } from "./portal-session.js";

/** A form's values as typed, to show them again next to the messages that refused them. */
export type FormValues = Record<string, string>;

type DeliveryRow = DeliveryItem & { attemptList: AttemptItem[] };

const when = (iso: string | null) => (iso === null ? "—" : iso.replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC"));

export function layout(title: string, session: PortalSession | null, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false}'>
<title>${title} · Novatrade Webhooks</title>
<link rel="stylesheet" href="/portal/static/portal.css">
<script src="/portal/static/htmx.min.js" defer></script>
</head>
<body>
<header>
  <a class="brand" href="/portal/endpoints">Novatrade Webhooks</a>
  ${session ? html`<a href="/portal/endpoints">Endpoints</a>` : null}
  <a href="/portal/catalog">Event catalog</a>
  ${session
    ? html`<span class="who">organization <code>${session.organizationUuid}</code> · ${session.name}</span>
  <form method="post" action="/portal/sign-out"><button class="secondary" type="submit">Sign out</button></form>`
    : null}
</header>
<main>
${body}
</main>
</body>
</html>`;
}

export function signInPage(error: string | null): Html {
  return html`<h1>Sign in</h1>
<section class="card">
  ${error ? html`<div class="errors" role="alert">${error}</div>` : null}
  <form method="post" action="/portal/sign-in">
    <label for="key">Organization API key</label>
    <input id="key" name="key" type="password" autocomplete="off" placeholder="nvk_o_…" required>
    <p class="muted">The key is checked and then forgotten: the portal keeps a signed session cookie, never the key.
    Operators sign in to an organization with a portal link (<code>npm run ops -- portal-link --org …</code>).</p>
    <button type="submit">Sign in</button>
  </form>
</section>`;
}

export function messagePage(title: string, message: string): Html {
  return html`<h1>${title}</h1><section class="card"><p>${message}</p><p><a href="/portal/endpoints">Back to the endpoints</a></p></section>`;
}

function errorList(errors: readonly string[]): Html | null {
  return errors.length === 0 ? null : html`<div class="errors" role="alert"><ul>${errors.map((error) => html`<li>${error}</li>`)}</ul></div>`;
}

/** The fields of an endpoint, as in the API: comma-separated lists, empty = unchanged / default. */
function endpointFields(values: FormValues, eventTypes: readonly string[]): Html {
  return html`
    <label for="url">URL</label>
    <input id="url" name="url" type="text" value="${values.url ?? ""}" placeholder="https://example.com/webhooks">
    <label for="description">Description</label>
    <input id="description" name="description" type="text" value="${values.description ?? ""}">
    <label for="eventTypes">Event types (comma-separated; wildcards like kyc.*)</label>
    <input id="eventTypes" name="eventTypes" type="text" value="${values.eventTypes ?? ""}" list="event-types" placeholder="kyc.*, compliance.status_changed">
    <datalist id="event-types">${eventTypes.map((type) => html`<option value="${type}">`)}</datalist>
    <label for="partnerIds">Partner UUIDs (comma-separated; empty: all partners)</label>
    <input id="partnerIds" name="partnerIds" type="text" value="${values.partnerIds ?? ""}">
    <label for="maxInFlight">Attempts in flight at once (empty: default)</label>
    <input id="maxInFlight" name="maxInFlight" type="number" value="${values.maxInFlight ?? ""}">
    <label for="rateLimitPerSecond">Requests per second at most (empty: no limit)</label>
    <input id="rateLimitPerSecond" name="rateLimitPerSecond" type="number" value="${values.rateLimitPerSecond ?? ""}">`;
}

export function endpointListPage(endpoints: readonly EndpointConfig[], eventTypes: readonly string[], values: FormValues, errors: readonly string[], notice: string | null): Html {
  return html`<h1>Endpoints</h1>
${notice ? html`<div class="notice" role="status">${notice}</div>` : null}
<section class="card">
${endpoints.length === 0
  ? html`<p class="muted">No endpoint yet: register one below.</p>`
  : html`<table id="endpoints">
  <thead><tr><th>Endpoint</th><th>URL</th><th>Event types</th><th>Status</th><th>Created</th></tr></thead>
  <tbody>${endpoints.map(
    (endpoint) => html`<tr>
    <td><a href="/portal/endpoints/${endpoint.endpointId}">${endpoint.endpointId}</a>${endpoint.description ? html`<br><span class="muted">${endpoint.description}</span>` : null}</td>
    <td><code>${endpoint.url}</code></td>
    <td>${endpoint.eventTypes.join(", ")}</td>
    <td><span class="status ${endpoint.status}">${endpoint.status}</span></td>
    <td>${when(new Date(endpoint.createdAt).toISOString())}</td>
  </tr>`,
  )}</tbody>
</table>`}
</section>
<h2>Register an endpoint</h2>
<section class="card">
  ${errorList(errors)}
  <form method="post" action="/portal/endpoints" id="create-endpoint">
    ${endpointFields(values, eventTypes)}
    <p><button type="submit">Register</button></p>
  </form>
</section>`;
}

export function secretPage(endpoint: EndpointConfig, secret: string, what: "created" | "rotated"): Html {
  return html`<h1>${what === "created" ? "Endpoint registered" : "Secret rotated"}</h1>
<section class="card">
  <p>Signing secret of <a href="/portal/endpoints/${endpoint.endpointId}">${endpoint.endpointId}</a>,
  <strong>shown this once</strong>: store it now; afterwards only its id is shown.
  ${what === "rotated" ? "The previous secret keeps signing during the overlap, so receivers can switch without losing a delivery." : null}</p>
  <pre class="secret" id="secret">${secret}</pre>
  <p><a href="/portal/endpoints/${endpoint.endpointId}">Continue to the endpoint</a></p>
</section>`;
}

export interface EndpointPageInput {
  endpoint: EndpointConfig;
  health: EndpointHealthBody;
  deliveries: readonly DeliveryRow[];
  eventTypes: readonly string[];
  jobId: string | null;
  notice: string | null;
  errors: readonly string[];
  values: FormValues | null;
}

export function endpointPage(input: EndpointPageInput): Html {
  const { endpoint, health } = input;
  const id = endpoint.endpointId;
  const values: FormValues = input.values ?? {
    url: endpoint.url,
    description: endpoint.description,
    eventTypes: endpoint.eventTypes.join(", "),
    partnerIds: endpoint.partnerIds?.join(", ") ?? "",
    maxInFlight: String(endpoint.maxInFlight),
    rateLimitPerSecond: endpoint.rateLimitPerSecond === null ? "" : String(endpoint.rateLimitPerSecond),
  };
  const now = new Date();
  const hourAgo = new Date(now.getTime() - 3_600_000);
  const local = (date: Date) => date.toISOString().slice(0, 16);
  return html`<p><a href="/portal/endpoints">← Endpoints</a></p>
<h1>${id} <span class="status ${endpoint.status}" id="endpoint-status">${endpoint.status}</span></h1>
${input.notice ? html`<div class="notice" role="status">${input.notice}</div>` : null}
${errorList(input.errors)}
${input.jobId ? html`<section class="card"><h2>Replay</h2>${replayProgressPlaceholder(input.jobId)}</section>` : null}
<div class="grid2">
<section class="card">
  <h2>Endpoint</h2>
  <dl class="facts">
    <dt>URL</dt><dd><code>${endpoint.url}</code></dd>
    <dt>Description</dt><dd>${endpoint.description || "—"}</dd>
    <dt>Event types</dt><dd>${endpoint.eventTypes.join(", ")}</dd>
    <dt>Schema versions</dt><dd>${endpoint.acceptedSchemaVersions.join(", ")}</dd>
    <dt>Secrets</dt><dd>${endpoint.secrets.map((secret) => html`<code>${secret.secretId}</code>${secret.expiresAt === null ? null : html` <span class="muted">(until ${when(new Date(secret.expiresAt).toISOString())})</span>`}<br>`)}</dd>
    <dt>Revision</dt><dd>${endpoint.revision}</dd>
  </dl>
  <p>
  ${endpoint.status === "ACTIVE"
    ? html`<form class="inline" method="post" action="/portal/endpoints/${id}/pause"><input type="text" name="reason" placeholder="reason (optional)" maxlength="500"><button type="submit" class="secondary">Pause</button></form>`
    : html`<form class="inline" method="post" action="/portal/endpoints/${id}/resume"><button type="submit">Resume</button></form>`}
  <form class="inline" method="post" action="/portal/endpoints/${id}/rotate-secret"><button type="submit" class="secondary">Rotate secret</button></form>
  </p>
</section>
<section class="card" id="health">
  <h2>Health</h2>
  <dl class="facts">
    <dt>Consecutive failures</dt><dd id="consecutive-failures">${health.consecutiveFailures}</dd>
    <dt>Failing since</dt><dd>${when(health.failingSince)}</dd>
    <dt>Last success</dt><dd>${when(health.lastSuccessAt)}</dd>
    <dt>Last failure</dt><dd>${when(health.lastFailureAt)}${health.lastStatusCode === null ? null : html` (HTTP ${health.lastStatusCode})`}${health.lastError ? html` <span class="muted">${health.lastError}</span>` : null}</dd>
    <dt>Paused by</dt><dd id="paused-by">${health.pausedBy
      ? html`${health.pausedBy.kind === "auto-pause" ? "auto-pause (the dispatcher)" : html`${health.pausedBy.kind} key “${health.pausedBy.name}”`}${health.pausedBy.reason ? html` — ${health.pausedBy.reason}` : null}${health.pausedBy.at ? html` <span class="muted">at ${when(health.pausedBy.at)}</span>` : null}`
      : "—"}</dd>
  </dl>
  <h2>Last 24 hours</h2>
  ${trusted(attemptsChart(health.last24h.map((entry) => ({ hour: Date.parse(entry.hour), succeeded: entry.succeeded, failed: entry.failed }))))}
  <p class="muted">Attempts per hour: <span class="legend-ok">green succeeded</span>, <span class="legend-bad">red failed</span>.</p>
</section>
</div>
<section class="card">
  <h2>Recent deliveries</h2>
  <div id="deliveries" hx-get="/portal/endpoints/${id}/deliveries" hx-trigger="every 2s" hx-swap="innerHTML">${deliveriesTable(input.deliveries)}</div>
</section>
<section class="card">
  <h2>Send a test event</h2>
  <form class="inline" method="post" action="/portal/endpoints/${id}/test" id="test-event">
    <select name="type" aria-label="event type">${input.eventTypes.map((type) => html`<option value="${type}">${type}</option>`)}</select>
    <button type="submit">Send test event</button>
  </form>
  <h2>Replay a time range</h2>
  <form class="inline" method="post" action="/portal/endpoints/${id}/replay" id="replay-range">
    <label for="from">from (UTC)</label><input id="from" type="datetime-local" name="from" value="${local(hourAgo)}">
    <label for="to">to (UTC)</label><input id="to" type="datetime-local" name="to" value="${local(new Date(now.getTime() + 60_000))}">
    <label><input type="checkbox" name="failedOnly" value="true"> failed only</label>
    <button type="submit" class="secondary">Replay range</button>
  </form>
</section>
<section class="card">
  <h2>Edit</h2>
  <form method="post" action="/portal/endpoints/${id}/edit" id="edit-endpoint">
    ${endpointFields(values, input.eventTypes)}
    <p><button type="submit">Save</button></p>
  </form>
  <h2>Delete</h2>
  <form method="post" action="/portal/endpoints/${id}/delete" id="delete-endpoint">
    <label><input type="checkbox" name="confirm" value="yes" required> Delete ${id}: deliveries stop at once</label>
    <p><button type="submit" class="danger">Delete endpoint</button></p>
  </form>
</section>`;
}

function lastAttempt(delivery: DeliveryRow): AttemptItem | undefined {
  return delivery.attemptList[delivery.attemptList.length - 1];
}

export function deliveriesTable(deliveries: readonly DeliveryRow[]): Html {
  if (deliveries.length === 0) return html`<p class="muted">No delivery yet. Send a test event above.</p>`;
  return html`<table>
<thead><tr><th>First attempt</th><th>Event</th><th>Status</th><th>Attempts</th><th>HTTP</th><th>Latency</th><th>Response</th><th></th></tr></thead>
<tbody>${deliveries.map((delivery) => {
    const last = lastAttempt(delivery);
    return html`<tr class="delivery" data-delivery-id="${delivery.deliveryId}" data-event-id="${delivery.eventId}">
  <td>${when(delivery.firstAttemptedAt)}</td>
  <td><a href="/portal/deliveries/${delivery.deliveryId}">${delivery.eventType}</a><br><code class="muted">${delivery.eventId}</code>${delivery.replayId ? html`<br><span class="muted">${delivery.replayId.startsWith("tst_") ? "test" : "replay"} ${delivery.replayId}</span>` : null}</td>
  <td><span class="status ${delivery.status}">${delivery.status}</span></td>
  <td>${delivery.attempts}</td>
  <td class="status-code">${delivery.lastStatusCode ?? delivery.lastErrorClass ?? "—"}</td>
  <td>${last?.latencyMs === null || last?.latencyMs === undefined ? "—" : `${last.latencyMs} ms`}</td>
  <td><code>${truncate(last?.responseBody ?? last?.errorMessage ?? "", 60)}</code></td>
  <td>${isTest(delivery) ? html`<span class="muted" title="a test event is not kept in the history: send another">test</span>` : html`<form class="inline" method="post" action="/portal/deliveries/${delivery.deliveryId}/replay"><button type="submit" class="secondary">Replay</button></form>`}</td>
</tr>`;
  })}</tbody>
</table>`;
}

/** Test deliveries (tst_) carry an event that never went through the domain topic, so the history has no envelope to replay. */
function isTest(delivery: DeliveryItem): boolean {
  return delivery.replayId?.startsWith("tst_") ?? false;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}

export function deliveryPage(delivery: DeliveryItem & { attemptList: AttemptItem[] }): Html {
  return html`<p><a href="/portal/endpoints/${delivery.endpointId}">← ${delivery.endpointId}</a></p>
<h1>Delivery ${delivery.deliveryId} <span class="status ${delivery.status}">${delivery.status}</span></h1>
<section class="card">
  <dl class="facts">
    <dt>Event</dt><dd>${delivery.eventType} <code>${delivery.eventId}</code></dd>
    <dt>Attempts</dt><dd>${delivery.attempts}</dd>
    <dt>Next attempt</dt><dd>${when(delivery.nextAttemptAt)}</dd>
    <dt>Produced by</dt><dd>${delivery.replayId ?? "live traffic"}</dd>
  </dl>
  ${isTest(delivery) ? html`<p class="muted">A test delivery: its event is not kept in the history, so it is not replayed; send another test event instead.</p>` : html`<form class="inline" method="post" action="/portal/deliveries/${delivery.deliveryId}/replay"><button type="submit">Replay this delivery</button></form>`}
</section>
<h2>Attempts</h2>
<table>
<thead><tr><th>#</th><th>At</th><th>Result</th><th>HTTP</th><th>Latency</th><th>Error</th><th>Kept response</th></tr></thead>
<tbody>${delivery.attemptList.map(
    (attempt) => html`<tr>
  <td>${attempt.attempt}</td><td>${when(attempt.attemptedAt)}</td><td><span class="status ${attempt.result}">${attempt.result}</span></td>
  <td>${attempt.statusCode ?? "—"}</td><td>${attempt.latencyMs === null ? "—" : `${attempt.latencyMs} ms`}</td>
  <td>${attempt.errorClass ?? ""} ${attempt.errorMessage ?? ""}</td><td><pre>${attempt.responseBody ?? ""}</pre></td>
</tr>`,
  )}</tbody>
</table>`;
}

function replayProgressPlaceholder(jobId: string): Html {
  return html`<div id="replay-progress" hx-get="/portal/replays/${jobId}" hx-trigger="load" hx-swap="outerHTML"><progress aria-label="replay progress"></progress> starting replay ${jobId}…</div>`;
}

/** The progress of a replay job; while it runs it asks for itself again every second (htmx). */
export function replayProgress(job: ReplayJob): Html {
  const finished = job.state === "succeeded" || job.state === "failed";
  const max = Math.max(job.total, job.scanned, 1);
  return html`<div id="replay-progress" data-state="${job.state}" ${finished ? null : trusted(`hx-get="/portal/replays/${encodeURIComponent(job.jobId)}" hx-trigger="every 1s" hx-swap="outerHTML"`)}>
  <progress value="${job.scanned}" max="${max}" aria-label="replay progress"></progress>
  <span class="status ${job.state}">${job.state}</span> replay <code>${job.jobId}</code> (${job.kind}): ${job.scanned} of ${job.total} scanned, ${job.requeued} re-queued${job.error ? html` — ${job.error}` : null}
</div>`;
}

export function catalogPage(entries: readonly CatalogEntry[]): Html {
  return html`<h1>Event catalog</h1>
<p class="muted">Every event type with each schema version as JSON Schema of the JSON body your endpoint receives, and an example. Also at <code>GET /v1/catalog</code> with any API key (ETag, 304 when unchanged).</p>
<section class="card"><ul>${entries.map((entry) => html`<li><a href="#${entry.type}">${entry.type}</a> <span class="muted">v${entry.latestVersion}</span></li>`)}</ul></section>
${entries.map(
    (entry) => html`<section class="card catalog-entry" id="${entry.type}">
  <h2>${entry.type}</h2>
  <p>${entry.description}</p>
  ${entry.versions.map(
    (version) => html`<h3>Version ${version.version}${version.version === entry.latestVersion ? " (latest)" : null}</h3>
  <div class="grid2">
    <div><strong>JSON Schema</strong><pre>${JSON.stringify(version.jsonSchema, null, 2)}</pre></div>
    <div><strong>Example</strong><pre>${version.example === null ? "—" : JSON.stringify(version.example, null, 2)}</pre></div>
  </div>`,
  )}
</section>`,
  )}`;
}
