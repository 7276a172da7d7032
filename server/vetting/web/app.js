// The analyst page: plain JavaScript, no framework, nothing fetched from elsewhere.
// Talks to the central server's /v1/vetting API with the analyst's bearer token.
"use strict";

const FACTS = [
  "route", "origin", "destination", "embarkation", "debarkation", "carrier", "flight", "role",
  "nationality", "residence", "sex", "age", "document_type", "document_issuer",
  "booking_to_departure_hours", "ticketing_to_departure_hours", "one_way", "payment", "agency",
  "bags", "companions", "companion_hit", "has_pnr",
];
const OPS = ["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains"];
const NUMERIC = new Set(["age", "booking_to_departure_hours", "ticketing_to_departure_hours", "bags", "companions"]);
const BOOLEAN = new Set(["one_way", "companion_hit", "has_pnr"]);
let token = sessionStorage.getItem("vetting-token");

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

function badge(status) {
  return el("span", { class: `badge ${status}` }, status.replace("_", " "));
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${token}` };
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) { signOut(); throw new Error("signed out"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new Error(detail || `HTTP ${response.status}`);
  }
  return body;
}

function show(id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
  $("nav").hidden = id === "login";
}

function signOut() {
  token = null;
  sessionStorage.removeItem("vetting-token");
  show("login");
  document.body.dataset.ready = "login";
}

async function signIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const response = await fetch("/v1/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: $("username").value, password: $("password").value }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { $("login-error").textContent = body.detail || "sign-in failed"; return; }
  if (body.role !== "analyst") { $("login-error").textContent = "this page is for analysts"; return; }
  token = body.access_token;
  sessionStorage.setItem("vetting-token", token);
  $("who").textContent = $("username").value;
  location.hash = "#/flights";
  route();
}

function cell(value, hot) {
  return el("td", hot && value > 0 ? { class: "count-hot" } : {}, String(value ?? ""));
}

async function showFlights() {
  show("flights");
  const params = new URLSearchParams();
  if ($("port").value) params.set("port", $("port").value.toUpperCase());
  if ($("day").value) params.set("day", $("day").value);
  const { items } = await api(`/v1/vetting/flights?${params}`);
  const body = $("flight-table").tBodies[0];
  body.replaceChildren(...items.map((f) => el("tr", {
    class: "link", "data-flight": f.id, onclick: () => { location.hash = `#/flight/${f.id}`; },
  },
  cell(f.flight), cell(f.list_type), cell(f.origin), cell(f.arrival_port),
  cell((f.arrival || f.arrival_date).replace("T", " ").slice(0, 16)),
  cell(f.passengers), cell(f.crew), cell(f.refer, true), cell(f.no_board, true),
  cell(f.open_hits, true))));
}

async function showFlight(id) {
  show("flight");
  const { flight, travellers } = await api(`/v1/vetting/flights/${id}`);
  $("flight-title").textContent = `${flight.flight} to ${flight.arrival_port}, ${flight.arrival_date} (${flight.list_type} list, version ${flight.version})`;
  $("flight-route").textContent = flight.legs.map((l) => `${l.origin} → ${l.destination}`).join(", ");
  $("traveller-table").tBodies[0].replaceChildren(...travellers.map((t) => el("tr", {
    class: "link", "data-traveller": t.id, onclick: () => { location.hash = `#/traveller/${t.id}`; },
  },
  el("td", {}, badge(t.status)), cell(`${t.surname}, ${t.given_names}`), cell(t.role),
  cell(t.birth_date), cell(t.nationality),
  cell(`${t.document.type || "?"} ${t.document.issuer || ""} ${t.document.number || ""}`),
  cell(t.reservation), cell(t.seat), cell(t.hits, true))));
}

function definitions(pairs) {
  return pairs.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value ?? "—")]);
}

function bookingDetail(booking) {
  if (!booking) return [el("p", {}, "No reservation linked to this traveller.")];
  const legs = booking.itinerary.map((l) => `${l.carrier}${l.number} ${l.origin}→${l.destination} ${(l.departure || "").slice(0, 16).replace("T", " ")}`);
  const people = booking.travellers.map((t) => `${t.surname}, ${t.given_names}${t.seats.length ? ` (${t.seats.join(", ")})` : ""}`);
  return [el("dl", {}, ...definitions([
    ["Record locator", `${booking.carrier} ${booking.locator}`],
    ["Booked", booking.created], ["Ticketed", booking.ticketed],
    ["Form of payment", booking.payment_types.join(", ")], ["Agency", booking.agency],
    ["One way", booking.one_way ? "yes" : "no"], ["Bags", booking.bags],
    ["Itinerary", legs.join("; ")], ["In the booking", people.join("; ")],
    ["Contacts (masked)", booking.contacts.join(", ")],
  ]))];
}

async function decide(hitId, decision, note, travellerId) {
  await api(`/v1/vetting/hits/${hitId}/decision`, { method: "POST", body: JSON.stringify({ decision, note }) });
  await showTraveller(travellerId);
}

async function showTraveller(id) {
  show("traveller");
  const { traveller: t, flight, hits, booking } = await api(`/v1/vetting/travellers/${id}`);
  $("traveller-title").replaceChildren(`${t.surname}, ${t.given_names} `, badge(t.status));
  $("api-detail").replaceChildren(...definitions([
    ["Flight", flight ? `${flight.flight} ${flight.origin} → ${flight.arrival_port}` : ""],
    ["Role", `${t.role}${t.in_transit ? " (in transit)" : ""}`], ["Sex", t.sex], ["Born", t.birth_date],
    ["Nationality", t.nationality], ["Residence", t.residence],
    ["Embarks / debarks", `${t.embarkation || "?"} / ${t.debarkation || "?"}`],
    ["Documents", t.documents.map((d) => `${d.type || "?"} ${d.issuer} ${d.number} (exp. ${d.expiry || "?"})`).join("; ")],
    ["Reservation", t.reservation], ["Seat", t.seat], ["Bags", t.bags],
    ["iAPI answer", t.iapi], ["Vetted at", t.vetted_at.slice(0, 19).replace("T", " ")],
    ["List versions", Object.entries(t.list_versions).map(([k, v]) => `${k} ${v}`).join(", ")],
  ]));
  $("booking-detail").replaceChildren(...bookingDetail(booking));
  $("hit-table").tBodies[0].replaceChildren(...hits.map((h) => {
    const note = el("input", { class: "note", placeholder: "note", "aria-label": "note" });
    const actions = el("td", {},
      note,
      el("button", { type: "button", "data-action": "confirm", onclick: () => decide(h.id, "confirm", note.value, t.id) }, "Confirm"),
      " ",
      el("button", { type: "button", class: "secondary", "data-action": "dismiss", onclick: () => decide(h.id, "dismiss", note.value, t.id) }, "Dismiss"));
    const who = h.decided_by ? ` by ${h.decided_by}` : "";
    return el("tr", { "data-hit": h.id }, cell(h.kind), cell(h.source), cell(h.detail),
      cell(h.fields.join(", ")), cell(h.score == null ? "" : h.score.toFixed(2)),
      el("td", {}, badge(h.status), who), actions);
  }));
}

function conditionRow(condition = { fact: "route", op: "contains", value: "" }) {
  const fact = el("select", { class: "fact" }, ...FACTS.map((f) => el("option", { value: f }, f)));
  const op = el("select", { class: "op" }, ...OPS.map((o) => el("option", { value: o }, o)));
  const value = el("input", { class: "value", placeholder: "value (a, b for a list)" });
  fact.value = condition.fact; op.value = condition.op;
  value.value = Array.isArray(condition.value) ? condition.value.join(", ") : String(condition.value);
  const row = el("div", { class: "condition" }, fact, " ", op, " ", value, " ",
    el("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Remove"));
  return row;
}

function conditionValue(fact, op, text) {
  if (op === "in" || op === "not_in") return text.split(",").map((s) => s.trim()).filter(Boolean);
  if (NUMERIC.has(fact)) return Number(text);
  if (BOOLEAN.has(fact)) return text.trim().toLowerCase() === "true";
  return text.trim();
}

function editRule(rule) {
  $("rule-form-title").textContent = rule ? `Edit rule ${rule.id}` : "New rule";
  $("rule-id").value = rule ? rule.id : "";
  $("rule-name").value = rule ? rule.name : "";
  $("rule-reason").value = rule ? rule.reason : "";
  $("rule-expires").value = rule ? rule.expires_at.slice(0, 10) : "";
  $("rule-enabled").checked = rule ? rule.enabled : true;
  $("conditions").replaceChildren(...(rule ? rule.conditions : [undefined]).map((c) => conditionRow(c)));
}

async function showRules() {
  show("rules");
  const { items } = await api("/v1/vetting/rules");
  $("rule-table").tBodies[0].replaceChildren(...items.map((r) => el("tr", { "data-rule": r.id },
    cell(r.name), cell(r.owner), cell(r.reason),
    cell(r.conditions.map((c) => `${c.fact} ${c.op} ${Array.isArray(c.value) ? c.value.join("|") : c.value}`).join(" and ")),
    cell(r.expires_at.slice(0, 10)),
    el("td", {}, badge(r.expired ? "dismissed" : r.enabled ? "cleared" : "dismissed"), r.expired ? " expired" : r.enabled ? "" : " disabled"),
    cell(r.hits, true),
    el("td", {}, el("button", { type: "button", class: "secondary", onclick: () => editRule(r) }, "Edit")))));
  if (!$("conditions").children.length) editRule(null);
}

async function saveRule(event) {
  event.preventDefault();
  $("rule-error").textContent = "";
  const conditions = [...$("conditions").children].map((row) => {
    const fact = row.querySelector(".fact").value;
    const op = row.querySelector(".op").value;
    return { fact, op, value: conditionValue(fact, op, row.querySelector(".value").value) };
  });
  const body = {
    name: $("rule-name").value, reason: $("rule-reason").value, conditions,
    expires_at: `${$("rule-expires").value}T23:59:59Z`, enabled: $("rule-enabled").checked,
  };
  const id = $("rule-id").value;
  try {
    await api(id ? `/v1/vetting/rules/${id}` : "/v1/vetting/rules", { method: id ? "PUT" : "POST", body: JSON.stringify(body) });
    editRule(null);
    await showRules();
  } catch (error) {
    $("rule-error").textContent = error.message;
  }
}

async function showQuarantine() {
  show("quarantine");
  const { items } = await api("/v1/vetting/quarantine");
  $("quarantine-table").tBodies[0].replaceChildren(...items.map((q) => el("tr", {},
    cell(q.received_at.slice(0, 19).replace("T", " ")), cell(q.source), cell(q.channel),
    cell(q.segment), cell(q.reason))));
}

function nationalSummary(entry) {
  const d = entry.data || {};
  if (entry.kind === "document") return d.doc_type ? `document type ${d.doc_type}` : "document";
  return [d.surname, d.given_names, d.birth_date, d.nationality].filter(Boolean).join(", ");
}

async function showNational() {
  show("national");
  const state = $("national-state").value.trim().toUpperCase();
  const { items } = await api(`/v1/vetting/national${state ? `?state=${encodeURIComponent(state)}` : ""}`);
  $("national-table").tBodies[0].replaceChildren(...items.map((entry) => el("tr", { "data-entry": entry.id },
    cell(entry.state), cell(entry.kind), cell(entry.key), cell(nationalSummary(entry)),
    cell(entry.added_by), cell(entry.added_at.slice(0, 19).replace("T", " ")),
    el("td", {}, el("button", {
      type: "button", "data-action": "delete",
      onclick: () => removeNational(entry).catch((error) => { $("national-error").textContent = error.message; }),
    }, "Remove")))));
}

async function removeNational(entry) {
  if (!window.confirm(`Remove ${entry.key} from the ${entry.state} ${entry.kind} list?`)) return;
  const query = `kind=${encodeURIComponent(entry.kind)}&key=${encodeURIComponent(entry.key)}`;
  await api(`/v1/vetting/national/${encodeURIComponent(entry.state)}?${query}`, { method: "DELETE" });
  await showNational();
  document.body.dataset.ready = `#/national removed ${entry.id}`;
}

function nationalEntry(kind, line) {
  const parts = line.split("|").map((part) => part.trim());
  if (kind === "document") {
    return { key: parts[0].toUpperCase(), data: parts[1] ? { doc_type: parts[1].toUpperCase() } : {} };
  }
  const [key, surname, given_names, birth_date, nationality] = parts;
  if (!surname) throw new Error(`a person needs a key and a surname: ${key}`);
  const data = { surname, given_names: given_names || "" };
  if (birth_date) data.birth_date = birth_date;
  if (nationality) data.nationality = nationality.toUpperCase();
  return { key, data };
}

async function uploadNational(event) {
  event.preventDefault();
  $("national-error").textContent = "";
  try {
    const state = $("upload-state").value.trim().toUpperCase();
    const kind = $("upload-kind").value;
    const lines = $("upload-entries").value.split("\n").map((l) => l.trim()).filter(Boolean);
    const entries = lines.map((line) => nationalEntry(kind, line));
    const saved = await api(`/v1/vetting/national/${encodeURIComponent(state)}`, {
      method: "POST", body: JSON.stringify({ kind, entries }),
    });
    $("upload-entries").value = "";
    $("national-state").value = state;
    await showNational();
    document.body.dataset.ready = `#/national uploaded ${saved.entries}`;
  } catch (error) {
    $("national-error").textContent = error.message;
  }
}

async function route() {
  if (!token) { show("login"); document.body.dataset.ready = "login"; return; }
  const [, view, id] = location.hash.split("/");
  try {
    if (view === "flight") await showFlight(id);
    else if (view === "traveller") await showTraveller(id);
    else if (view === "rules") await showRules();
    else if (view === "national") await showNational();
    else if (view === "quarantine") await showQuarantine();
    else await showFlights();
    document.body.dataset.ready = location.hash || "#/flights";
  } catch (error) {
    document.body.dataset.ready = `error: ${error.message}`;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", signIn);
  $("logout").addEventListener("click", signOut);
  $("flight-filter").addEventListener("submit", (event) => { event.preventDefault(); showFlights(); });
  $("add-condition").addEventListener("click", () => $("conditions").append(conditionRow()));
  $("rule-form").addEventListener("submit", saveRule);
  $("national-filter").addEventListener("submit", (event) => { event.preventDefault(); showNational(); });
  $("national-form").addEventListener("submit", uploadNational);
  window.addEventListener("hashchange", route);
  route();
});
