/* glassgrad playground: the page. It only draws; Python does all the math.
 *
 * How it works, top to bottom:
 *   1. start(): the address's query becomes the session's settings (POST /api/sessions),
 *      the controls are filled from /api/limits, and one EventSource listens to the
 *      session's stream of frames.
 *   2. Each frame (a JSON document, see viz/playground/session.py) is kept as text; one
 *      requestAnimationFrame later the LATEST one is parsed and drawn. A hidden tab draws
 *      nothing and skips to the newest frame when it shows again.
 *   3. Every control posts its change (settings, control, points, csv, weights, select);
 *      the next frame shows the result, and its settings go back into the address.
 *
 * Colours are viz/style.py's (blue positive, orange negative, grey zero, and its class colours),
 * sent with /api/limits.
 * Nothing here comes from outside the server (a Content-Security-Policy says so), and the
 * only markup inserted is our own server's SVG, parsed as XML and imported node by node.
 */
"use strict";

// --- colours: viz/style.py's, sent with /api/limits (useColors) ------------------------------

let POSITIVE, NEGATIVE, ZERO, CLASS_COLORS, SIGNED_LUT;

/* Take the project's colours (limits.colors) and make the lookup tables the pictures use. */
function useColors(colors) {
  ({ positive: POSITIVE, negative: NEGATIVE, zero: ZERO, classes: CLASS_COLORS } = colors);
  SIGNED_LUT = signedLut();
  classLuts.clear();
}

function classColor(label) {
  return CLASS_COLORS[label % CLASS_COLORS.length];
}

function rgbOf(hex) {
  return [1, 3, 5].map((start) => parseInt(hex.slice(start, start + 2), 16));
}

function mix(from, to, amount) {
  return from.map((channel, i) => Math.round(channel + (to[i] - channel) * amount));
}

/* 256 colours for a signed byte (128 = zero, 0 = most negative, 255 = most positive). */
function signedLut() {
  const negative = rgbOf(NEGATIVE), zero = rgbOf(ZERO), positive = rgbOf(POSITIVE);
  const table = [];
  for (let byte = 0; byte < 256; byte++) {
    const t = (byte - 128) / 127;
    table.push(t >= 0 ? mix(zero, positive, Math.min(t, 1)) : mix(zero, negative, Math.min(-t, 1)));
  }
  return table;
}

/* For class k, 256 colours from "unsure" (nearly white) to "certain" (a light shade of the class). */
const classLuts = new Map();
function classLut(label) {
  if (!classLuts.has(label)) {
    const white = [255, 255, 255], colour = rgbOf(classColor(label));
    const table = [];
    for (let byte = 0; byte < 256; byte++) table.push(mix(white, colour, 0.12 + 0.5 * byte / 255));
    classLuts.set(label, table);
  }
  return classLuts.get(label);
}

function signedColor(value, largest) {
  const t = largest > 0 ? Math.max(-1, Math.min(1, value / largest)) : 0;
  const [r, g, b] = SIGNED_LUT[Math.round(128 + t * 127)];
  return `rgb(${r},${g},${b})`;
}

// --- small helpers ------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/* A number for a person: "0" for zero, two significant digits for tiny ones, else `digits` decimals. */
function fmt(value, digits = 3) {
  if (value === null || value === undefined) return "–";
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  if (Math.abs(value) < 0.001 || Math.abs(value) >= 1e5) return value.toExponential(1);
  return String(Number(value.toFixed(digits)));
}

function percent(value) {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : (100 * value).toFixed(1) + " %";
}

function decodeBytes(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/* Size a canvas's backing store to its on-screen size (times the screen's pixel ratio); true if it changed. */
function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width === width && canvas.height === height) return false;
  canvas.width = width;
  canvas.height = height;
  return true;
}

/* A 2D context drawing in CSS pixels. */
function context(canvas) {
  const ctx = canvas.getContext("2d");
  const ratio = canvas.width / Math.max(1, canvas.clientWidth);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

/* Text that ends as a sentence does, so another can follow it. */
const sentence = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);

function showMessage(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
}

// --- the server -----------------------------------------------------------------------------

const state = {
  id: null,            // the session's id
  limits: null,        // /api/limits
  frameText: null,     // the latest frame, still JSON text
  frame: null,         // the frame drawn last
  drawScheduled: false,
  settingsText: "",    // the settings the controls show, as JSON (to see when they change)
  focusRequest: null,  // what the graph panel shows: {"kind": ...} or null
  focusSvg: null,      // its inserted <svg>, and the <text> elements of each titled group
  focusTexts: new Map(),
  focusNumbers: null,  // the numbers drawn last in the graph panel (the static part's, then each frame's)
  hover: null,         // what the mouse is over in the network picture
  layout: null,        // where the network picture put each neuron
  stream: null,
  focusSince: 0,       // when the graph opened (ms)
  notice: null,        // a refusal to show on the status line: {text, until (ms)}
};

/* Call the server: the parsed JSON answer (or the text for text answers); on a refusal, throws an
   Error whose message is the server's (its `status` the HTTP status). */
async function api(method, path, body, contentType = "application/json") {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = contentType;
    options.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const response = await fetch(path, options);
  const type = response.headers.get("Content-Type") || "";
  const answer = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const error = new Error(answer && answer.error ? answer.error : `${method} ${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return answer;
}

const sessionPath = (tail) => `/api/sessions/${state.id}/${tail}`;

async function start() {
  wireControls();
  const query = Object.fromEntries(new URLSearchParams(window.location.search));
  try {
    state.limits = await api("GET", "/api/limits");
    useColors(state.limits.colors);
    fillChoices(state.limits);
    const created = await createSession(query);
    state.id = created.id;
    if (created.limits) state.limits = created.limits;
    showSettings(created.settings);
  } catch (error) {
    showMessage($("status"), `Could not start a session: ${error.message}`, true);
    return;
  }
  $("save-weights").href = sessionPath("weights");
  openStream();
}

/* A session with the address's settings; if the server refuses them (an old or edited link), the defaults. */
async function createSession(query) {
  try {
    return await api("POST", "/api/sessions", { settings: query });
  } catch (error) {
    if (Object.keys(query).length === 0 || error.status !== 400) throw error;
    const created = await api("POST", "/api/sessions", { settings: {} });
    showNotice(`The address's settings were refused (${error.message}); started with the defaults.`);
    return created;
  }
}

function openStream() {
  const stream = new EventSource(sessionPath("stream"));
  state.stream = stream;
  stream.addEventListener("frame", (event) => {
    if (!event.data) return;  // not a frame (nothing to draw yet)
    state.frameText = event.data;
    if (!state.drawScheduled) {
      state.drawScheduled = true;
      requestAnimationFrame(drawLatest);
    }
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      showMessage($("status"), "Lost the connection to the server: reload the page to start a new session.", true);
    }
  });
}

/* Tell the server this tab is gone, so it frees the session at once (it would after a grace anyway). */
window.addEventListener("pagehide", () => {
  if (state.stream) state.stream.close();
  if (state.id) fetch(`/api/sessions/${state.id}`, { method: "DELETE", keepalive: true }).catch(() => {});
});

// --- controls -------------------------------------------------------------------------------

/* A list from the limits: each entry a name, or {"name", "title"}. */
function choices(list) {
  return (list || []).map((entry) => (typeof entry === "string" || typeof entry === "number"
    ? { name: String(entry), title: String(entry) }
    : { name: String(entry.name), title: entry.title ? `${entry.name}: ${entry.title}` : String(entry.name) }));
}

function setOptions(select, list) {
  select.replaceChildren(...choices(list).map(({ name, title }) => new Option(title, name)));
}

// Preset values, as in TensorFlow Playground, when the limits do not give their own.
const PRESETS = {
  learning_rates: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  l2s: [0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
  speeds: [1, 2, 5, 10, 20, 50],
};

function fillChoices(limits) {
  setOptions($("dataset"), limits.datasets);
  setOptions($("activation"), limits.activations);
  setOptions($("loss"), limits.losses);
  applyFieldLimits(limits.fields || {});
  setOptions($("optimizer"), limits.optimizers);
  setOptions($("learning-rate"), limits.learning_rates || PRESETS.learning_rates);
  setOptions($("l2"), limits.l2s || limits.l2_values || PRESETS.l2s);
  setOptions($("speed"), limits.speeds || PRESETS.speeds);
  $("layer-limit").textContent = `(at most ${limits.max_layers} layers of ${limits.max_width} neurons)`;
  const csvKb = limits.max_csv_bytes ? `${Math.round(limits.max_csv_bytes / 1000)} kB` : "";
  $("data-limits").textContent = `At most ${limits.max_points} points${csvKb ? `; a CSV file of at most ${csvKb}` : ""}.`;
}

/* Each control's range and its help (as a tooltip) from the limits' description of its setting. */
function applyFieldLimits(fields) {
  for (const element of document.querySelectorAll("[data-setting]")) {
    const field = fields[element.dataset.setting];
    if (!field) continue;
    if (field.help) element.title = field.help;
    if (element.tagName !== "INPUT" || field.min === undefined) continue;
    const percent = element.dataset.setting === "stop_accuracy";
    element.min = percent ? 100 * field.min : field.min;
    element.max = percent ? 100 * field.max : field.max;
  }
}

/* A select shows `value` even when it is not one of its presets (say, from a shared link). */
function selectValue(select, value) {
  const text = String(value);
  // "1.0" from the settings is the option "1": numbers are compared as numbers.
  const same = (option) => option.value === text || (text.trim() !== "" && Number(option.value) === Number(text));
  const match = [...select.options].find(same);
  if (match) select.value = match.value;
  else {
    select.add(new Option(text, text));
    select.value = text;
  }
}

/* The hidden layers' widths, from the settings ("hidden": "4,4" or [4, 4]). */
function hiddenSizes(settings) {
  const hidden = settings.hidden ?? settings.layers ?? "";
  if (Array.isArray(hidden)) return hidden.map(Number);
  return String(hidden).split(",").filter((part) => part.trim() !== "").map(Number);
}

/* Settings whose 0 means "never" or "all": their box shows its placeholder instead. */
const BLANK_ZERO = ["stop_steps", "stop_accuracy", "batch_size"];

/* The settings' stop-at-accuracy as a percentage for the box (the settings keep a fraction). */
const accuracyToPercent = (value) => (value === "" || value === null || value === undefined ? "" : String(Math.round(Number(value) * 1000) / 10));

/* Put settings (Settings.to_query(): strings) into the controls and the address. */
function showSettings(settings) {
  const text = JSON.stringify(settings);
  if (text === state.settingsText) return;
  state.settingsText = text;
  state.settings = settings;
  for (const element of document.querySelectorAll("[data-setting]")) {
    const key = element.dataset.setting;
    if (!(key in settings) || element === document.activeElement) continue;
    const value = settings[key] ?? "";
    if (element.tagName === "SELECT") selectValue(element, value);
    else if (key === "stop_accuracy") element.value = Number(value) === 0 ? "" : accuracyToPercent(value);
    else element.value = Number(value) === 0 && BLANK_ZERO.includes(key) ? "" : value;
  }
  $("noise-value").textContent = fmt(Number(settings.noise), 2);
  $("test-value").textContent = `${Math.round(100 * Number(settings.test_fraction))} %`;
  $("layer-count").textContent = hiddenSizes(settings).length;
  const query = new URLSearchParams(settings).toString();
  history.replaceState(null, "", `${window.location.pathname}?${query}`);
}

/* Send setting changes; the answer's settings are shown (the frame that follows shows the rest). */
async function changeSettings(updates) {
  try {
    const answer = await api("POST", sessionPath("settings"), updates);
    showSettings(answer.settings);
    showNotice("");
    const live = (state.limits && state.limits.live) || [];
    if (state.focusRequest && Object.keys(updates).some((key) => !live.includes(key))) {
      closeFocus("The graph closed because the network or the data was rebuilt: click a neuron, an edge or the output again.");
    }
  } catch (error) {
    showNotice(error.message);
    state.settingsText = "";  // put the controls back to what the server has
    if (state.settings) showSettings(state.settings);
  }
}

function controlValue(element) {
  const key = element.dataset.setting;
  if (element.type === "number" && element.value === "" && BLANK_ZERO.includes(key)) return 0;  // empty: never, all
  if (key === "stop_accuracy") return Number(element.value) / 100;
  if (element.type === "number" || element.type === "range") return Number(element.value);
  if (["learning_rate", "l2", "speed"].includes(key)) return Number(element.value);
  return element.value;
}

async function control(action, options = {}) {
  try {
    await api("POST", sessionPath("control"), { action, ...options });
  } catch (error) {
    showNotice(error.message);
  }
}

function changeHidden(sizes) {
  changeSettings({ hidden: sizes.join(",") });
}

function wireControls() {
  for (const element of document.querySelectorAll("[data-setting]")) {
    element.addEventListener("change", () => changeSettings({ [element.dataset.setting]: controlValue(element) }));
  }
  $("noise").addEventListener("input", () => { $("noise-value").textContent = fmt(Number($("noise").value), 2); });
  $("test-fraction").addEventListener("input", () => {
    $("test-value").textContent = `${Math.round(100 * Number($("test-fraction").value))} %`;
  });
  $("new-seed").addEventListener("click", () => changeSettings({ seed: Math.floor(Math.random() * 100000) }));
  $("play").addEventListener("click", () => control(state.frame && state.frame.running ? "pause" : "play"));
  $("step").addEventListener("click", () => control("step"));
  $("reset-same").addEventListener("click", () => control("reset", { new_weights: false }));
  $("reset-new").addEventListener("click", () => control("reset", { new_weights: true }));
  $("layer-add").addEventListener("click", () => {
    const sizes = hiddenSizes(state.settings);
    changeHidden([...sizes, sizes.length ? sizes[sizes.length - 1] : 2]);
  });
  $("layer-remove").addEventListener("click", () => changeHidden(hiddenSizes(state.settings).slice(0, -1)));
  $("class-picker").addEventListener("change", () => { document.querySelector("input[name=mode][value=add]").checked = true; });
  $("csv-file").addEventListener("change", uploadCsv);
  $("weights-file").addEventListener("change", uploadWeights);
  $("copy-link").addEventListener("click", () => copyText(window.location.href, $("share-message"), "Link copied."));
  $("show-code").addEventListener("click", showCode);
  $("fit-graph").addEventListener("click", () => {
    const fitted = $("svg-box").classList.toggle("fit");
    $("fit-graph").textContent = fitted ? "actual size" : "fit to width";
  });
  $("copy-code").addEventListener("click", () => copyText($("code").textContent, $("share-message"), "Code copied."));
  wireBoundary($("boundary"));
  wireNetwork($("network"));
  window.addEventListener("resize", () => { if (state.frame) draw(state.frame); });
}

async function uploadCsv(event) {
  const file = event.target.files[0];
  event.target.value = "";  // choosing the same file again still uploads it
  if (!file) return;
  const message = $("csv-message");
  if (state.limits && file.size > state.limits.max_csv_bytes) {
    showMessage(message, `${file.name} is ${Math.round(file.size / 1000)} kB; the limit is ` +
      `${Math.round(state.limits.max_csv_bytes / 1000)} kB. Nothing changed.`, true);
    return;
  }
  try {
    const answer = await api("POST", sessionPath("csv"), await file.text(), "text/csv");
    showMessage(message, `Loaded ${answer.points} points from ${file.name}.`);
    if (state.focusRequest) closeFocus("The graph closed because the data changed: click a neuron, an edge or the output again.");
  } catch (error) {
    showMessage(message, `${file.name}: ${sentence(error.message)} Nothing changed.`, true);
  }
}

async function uploadWeights(event) {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  const message = $("share-message");
  let document_;
  try {
    document_ = JSON.parse(await file.text());
  } catch (error) {
    showMessage(message, `${file.name} is not JSON (${error.message}); save weights from this page to get a file that loads.`, true);
    return;
  }
  try {
    await api("POST", sessionPath("weights"), document_);
    showMessage(message, `Loaded the weights of ${file.name}.`);
  } catch (error) {
    showMessage(message, `${file.name}: ${sentence(error.message)} Nothing changed.`, true);
  }
}

async function showCode() {
  try {
    $("code").textContent = await api("GET", sessionPath("code"));
    $("code-box").hidden = false;
  } catch (error) {
    showMessage($("share-message"), error.message, true);
  }
}

async function copyText(text, message, done) {
  try {
    await navigator.clipboard.writeText(text);
    showMessage(message, done);
  } catch (error) {
    showMessage(message, "The browser refused to copy; select the text and copy it by hand.", true);
  }
}

// --- drawing a frame ------------------------------------------------------------------------

function drawLatest() {
  state.drawScheduled = false;
  if (state.frameText === null) return;
  const text = state.frameText;
  state.frameText = null;
  let frame;
  try {
    frame = JSON.parse(text);
  } catch (error) {
    showNotice(`A frame from the server could not be read (${error.message}); the next one may be fine.`);
    return;
  }
  draw(frame);
}

function draw(frame) {
  state.frame = frame;
  showSettings(frame.settings);
  drawHeader(frame);
  drawBoundary($("boundary"), frame);
  drawNetwork($("network"), frame);
  drawCurve($("loss-curve"), frame.curves, ["loss", "test_loss"], false);
  drawCurve($("accuracy-curve"), frame.curves, ["accuracy", "test_accuracy"], true);
  drawFocusNumbers(frame);
  if (state.hover) showTooltip(state.hover);
}

function drawHeader(frame) {
  $("step-count").textContent = frame.step.toLocaleString("en");
  const play = $("play");
  play.textContent = frame.running ? "\u275A\u275A Pause" : "\u25B6 Play";
  play.classList.toggle("running", frame.running);
  $("loss-name").textContent = frame.loss_name;
  $("loss-train").textContent = fmt(frame.metrics.loss, 4);
  $("loss-test").textContent = fmt(frame.metrics.test_loss, 4);
  $("acc-train").textContent = percent(frame.metrics.accuracy);
  $("acc-test").textContent = percent(frame.metrics.test_accuracy);
  drawStatus(frame);
  drawClassPicker(frame.classes);
  drawLayerHeads(frame);
}

/* The status line: a refusal from the server for a while, else what the frame says the run is doing. */
function drawStatus(frame) {
  const line = $("status");
  if (state.notice && Date.now() < state.notice.until) {
    showMessage(line, state.notice.text, true);
    line.classList.remove("diverged");
    return;
  }
  const status = (frame && frame.status) || { kind: "ok", message: "" };
  const words = { ok: "Training.", paused: "Paused.", stopped: "Stopped.", diverged: "Training diverged." };
  showMessage(line, status.message || words[status.kind] || "");
  line.classList.toggle("diverged", status.kind === "diverged");
}

const NOTICE_SECONDS = 10;

/* Show why the server refused a change (for NOTICE_SECONDS, or until the next accepted change). */
function showNotice(text) {
  state.notice = text ? { text, until: Date.now() + NOTICE_SECONDS * 1000 } : null;
  drawStatus(state.frame);
  if (text) setTimeout(() => drawStatus(state.frame), NOTICE_SECONDS * 1000 + 50);
}

function drawClassPicker(classes) {
  const picker = $("class-picker");
  if (picker.childElementCount === classes) return;
  const chosen = Number((picker.querySelector("input:checked") || { value: 1 }).value);
  const buttons = [];
  for (let label = 0; label < classes; label++) {
    const option = document.createElement("label");
    option.className = "class-option";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "point-class";
    input.value = String(label);
    input.checked = label === Math.min(chosen, classes - 1);
    const swatch = document.createElement("span");
    swatch.className = "dot";
    swatch.style.backgroundColor = classColor(label);
    option.append(input, swatch, ` class ${label}`);
    buttons.push(option);
  }
  picker.replaceChildren(...buttons);
}

/* From the plane's coordinates to the canvas's CSS pixels and back. */
function planeMapping(frame, width, height) {
  const [x1min, x1max, x2min, x2max] = frame.extent;
  return {
    toCanvas: (x1, x2) => [(x1 - x1min) / (x1max - x1min) * width, (x2max - x2) / (x2max - x2min) * height],
    toPlane: (x, y) => [x1min + x / width * (x1max - x1min), x2max - y / height * (x2max - x2min)],
  };
}

/* A size x size picture of bytes through a colour table, as a small canvas to scale up smoothly. */
function byteImage(bytes, size, colourOf) {
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = colourOf(i, bytes[i]);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

function drawBoundary(canvas, frame) {
  fitCanvas(canvas);
  const ctx = context(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  const { size, pixels, confidence } = frame.boundary;
  const classes = decodeBytes(pixels), sure = decodeBytes(confidence);
  const picture = byteImage(sure, size, (i, byte) => classLut(classes[i])[byte]);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(picture, 0, 0, width, height);

  const { toCanvas } = planeMapping(frame, width, height);
  for (const [x1, x2, label, isTest] of frame.points) {
    const [x, y] = toCanvas(x1, x2);
    ctx.beginPath();
    ctx.arc(x, y, 4, 0, 2 * Math.PI);
    if (isTest) {
      ctx.lineWidth = 2;
      ctx.strokeStyle = classColor(label);
      ctx.stroke();
    } else {
      ctx.fillStyle = classColor(label);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "white";
      ctx.stroke();
    }
  }
  if (frame.chosen !== null && frame.chosen !== undefined && frame.points[frame.chosen]) {
    const [x1, x2] = frame.points[frame.chosen];
    const [x, y] = toCanvas(x1, x2);
    ctx.lineWidth = 2;
    ctx.strokeStyle = "#111";
    ctx.beginPath();
    ctx.arc(x, y, 9, 0, 2 * Math.PI);
    ctx.stroke();
  }
  drawAxes(ctx, frame.extent, width, height);
}

function drawAxes(ctx, extent, width, height) {
  const [x1min, x1max, x2min, x2max] = extent;
  ctx.fillStyle = "rgba(0,0,0,0.65)";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  ctx.fillText(`x1 = ${fmt(x1min, 1)}`, 3, height - 2);
  ctx.textAlign = "right";
  ctx.fillText(`x1 = ${fmt(x1max, 1)}`, width - 3, height - 2);
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`x2 = ${fmt(x2max, 1)}`, 3, 2);
  ctx.textBaseline = "bottom";
  ctx.fillText(`x2 = ${fmt(x2min, 1)}`, 3, height - 14);
}

/* What a click on the plane does: the mode chosen, or shift (remove) / ctrl or alt (choose). */
function clickMode(event) {
  if (event.shiftKey) return "remove";
  if (event.ctrlKey || event.altKey || event.metaKey) return "choose";
  return document.querySelector("input[name=mode]:checked").value;
}

function wireBoundary(canvas) {
  canvas.addEventListener("click", async (event) => {
    const frame = state.frame;
    if (!frame) return;
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left, y = event.clientY - rect.top;
    const [x1, x2] = planeMapping(frame, rect.width, rect.height).toPlane(x, y);
    const mode = clickMode(event);
    try {
      if (mode === "choose") await choosePoint(frame, rect, x, y);
      else if (mode === "remove") await api("POST", sessionPath("points"), { action: "remove", x1, x2 });
      else {
        const label = Number((document.querySelector("input[name=point-class]:checked") || { value: 0 }).value);
        await api("POST", sessionPath("points"), { action: "add", x1, x2, label });
      }
    } catch (error) {
      showNotice(error.message);
    }
  });
  canvas.addEventListener("contextmenu", (event) => { if (event.ctrlKey) event.preventDefault(); });
}

/* The point nearest the click (on screen) becomes the chosen one; the open graph follows it. */
async function choosePoint(frame, rect, x, y) {
  const { toCanvas } = planeMapping(frame, rect.width, rect.height);
  let nearest = null, best = Infinity;
  frame.points.forEach(([x1, x2], index) => {
    const [px, py] = toCanvas(x1, x2);
    const distance = Math.hypot(px - x, py - y);
    if (distance < best) { best = distance; nearest = index; }
  });
  if (nearest === null) return;
  state.focusSince = Date.now();
  const answer = await api("POST", sessionPath("select"), { point: nearest, focus: state.focusRequest });
  if (state.focusRequest) {
    showFocus(answer);
    state.focusSince = Date.now();
  }
}

// --- the network picture ----------------------------------------------------------------------

/* Where each neuron goes: columns of square maps, with room above for the layer's buttons. */
function networkLayout(sizes, width, height) {
  const columns = sizes.length;
  const tallest = Math.max(...sizes);
  const side = Math.max(14, Math.min(52, Math.floor((height - 16) / tallest) - 4));
  const gap = Math.min(side + 14, (height - 16) / tallest);
  // Room on the left for the inputs' names and the biases, on the right for the outputs' names.
  const left = side / 2 + 26, right = side / 2 + 52;
  const columnX = (c) => left + (columns === 1 ? 0 : c * (width - left - right) / (columns - 1));
  const layers = sizes.map((count, c) => {
    const top = (height - count * gap) / 2 + (gap - side) / 2;
    return Array.from({ length: count }, (_, n) => ({ x: columnX(c) - side / 2, y: top + n * gap, side }));
  });
  return { layers, side, columnX };
}

/* The input layer's maps: x1 and x2 over the plane, in signed colours (kept while the plane stays). */
const inputMaps = new Map();
function inputMap(frame, which) {
  const key = `${which}:${frame.extent.join(",")}`;
  if (!inputMaps.has(key)) {
    if (inputMaps.size > 8) inputMaps.clear();
    inputMaps.set(key, drawInputMap(frame.extent, which));
  }
  return inputMaps.get(key);
}

function drawInputMap(extent, which) {
  const size = 40;
  const [x1min, x1max, x2min, x2max] = extent;
  const largest = which === 0 ? Math.max(Math.abs(x1min), Math.abs(x1max)) : Math.max(Math.abs(x2min), Math.abs(x2max));
  return byteImage(new Uint8Array(size * size), size, (i) => {
    const column = i % size, row = Math.floor(i / size);
    const value = which === 0 ? x1min + (column + 0.5) / size * (x1max - x1min) : x2max - (row + 0.5) / size * (x2max - x2min);
    return SIGNED_LUT[Math.round(128 + 127 * value / (largest || 1))];
  });
}

function neuronMaps(frame) {
  const maps = new Map();
  for (const neuron of frame.neurons) {
    maps.set(`${neuron.layer}:${neuron.neuron}`, { ...neuron, image: byteImage(decodeBytes(neuron.pixels), neuron.size, (i, byte) => SIGNED_LUT[byte]) });
  }
  return maps;
}

function largestMagnitude(nested) {
  let largest = 0;
  for (const row of nested.flat(2)) largest = Math.max(largest, Math.abs(row));
  return largest;
}

function drawNetwork(canvas, frame) {
  fitCanvas(canvas);
  const ctx = context(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  const { sizes, weights, biases } = frame.network;
  const layout = networkLayout(sizes, width, height);
  const maps = neuronMaps(frame);
  const largestWeight = largestMagnitude(weights);
  const largestBias = largestMagnitude(biases);
  state.layout = { ...layout, sizes, maps, edges: [], biases: [] };

  // Edges first, under the neurons: weights[l][j][i] joins neuron i of column l to neuron j of column l+1.
  weights.forEach((layer, l) => layer.forEach((row, j) => row.forEach((weight, i) => {
    const from = layout.layers[l][i], to = layout.layers[l + 1][j];
    const x0 = from.x + from.side, y0 = from.y + from.side / 2, x1 = to.x, y1 = to.y + to.side / 2;
    const strength = largestWeight > 0 ? Math.abs(weight) / largestWeight : 0;
    ctx.strokeStyle = weight >= 0 ? POSITIVE : NEGATIVE;
    ctx.globalAlpha = 0.2 + 0.8 * strength;
    ctx.lineWidth = 0.4 + 3.6 * strength;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    state.layout.edges.push({ layer: l + 1, neuron: j + 1, input: i + 1, x0, y0, x1, y1, weight });
  })));
  ctx.globalAlpha = 1;

  // Neurons: the inputs' maps, then every hidden neuron's and output's map, each with its bias.
  layout.layers.forEach((column, c) => column.forEach((box, n) => {
    const image = c === 0 ? inputMap(frame, n) : (maps.get(`${c}:${n + 1}`) || {}).image;
    ctx.imageSmoothingEnabled = true;
    if (image) ctx.drawImage(image, box.x, box.y, box.side, box.side);
    const focused = state.focusRequest && isFocused(state.focusRequest, c, n + 1, sizes.length);
    ctx.lineWidth = focused ? 3 : 1;
    ctx.strokeStyle = focused ? "#111" : "#9aa0a6";
    ctx.strokeRect(box.x, box.y, box.side, box.side);
    if (c === 0 || c === sizes.length - 1) {
      ctx.fillStyle = "#333";
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      ctx.textAlign = c === 0 ? "right" : "left";
      const name = c === 0 ? `x${n + 1}` : sizes[c] === 1 ? "score" : `class ${n}`;
      ctx.fillText(name, c === 0 ? box.x - 5 : box.x + box.side + 5, box.y + box.side / 2);
    }
    if (c > 0) {
      const bias = biases[c - 1][n];
      const b = Math.max(6, Math.round(box.side / 4));
      const bx = box.x - b - 2, by = box.y + box.side - b;
      ctx.fillStyle = signedColor(bias, largestBias);
      ctx.fillRect(bx, by, b, b);
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#666";
      ctx.strokeRect(bx, by, b, b);
      state.layout.biases.push({ layer: c, neuron: n + 1, x: bx, y: by, side: b, bias });
    }
  }));
  ctx.textAlign = "left";
}

function isFocused(request, column, neuron, columns) {
  if (request.kind === "output") return column === columns - 1;
  return request.kind === "neuron" && request.layer === column && request.neuron === neuron;
}

/* Row headings above each column, with + / - buttons for the hidden layers' widths. */
function drawLayerHeads(frame) {
  const heads = $("layer-heads");
  const sizes = frame.network.sizes;
  const key = JSON.stringify(sizes) + heads.clientWidth;
  if (heads.dataset.key === key) return;
  heads.dataset.key = key;
  const width = $("network").clientWidth;
  const { columnX } = networkLayout(sizes, width, $("network").clientHeight);
  const limit = state.limits ? state.limits.max_width : Infinity;
  const children = sizes.map((count, c) => {
    const head = document.createElement("div");
    head.className = "layer-head";
    head.style.left = `${columnX(c)}px`;
    const last = c === sizes.length - 1;
    const title = document.createElement("div");
    title.className = "layer-title";
    title.textContent = c === 0 ? "Input" : last ? (count === 1 ? "Output" : "Outputs") : `Layer ${c}`;
    head.append(title);
    if (c > 0 && !last) {
      const minus = document.createElement("button");
      minus.type = "button";
      minus.className = "small";
      minus.textContent = "\u2212";
      minus.title = `One neuron fewer in layer ${c}`;
      minus.disabled = count <= 1;
      minus.addEventListener("click", () => changeWidth(c, -1));
      const plus = document.createElement("button");
      plus.type = "button";
      plus.className = "small";
      plus.textContent = "+";
      plus.title = `One neuron more in layer ${c} (at most ${limit})`;
      plus.disabled = count >= limit;
      plus.addEventListener("click", () => changeWidth(c, +1));
      const words = document.createElement("div");
      words.className = "layer-count";
      words.textContent = `${count} neuron${count === 1 ? "" : "s"}`;
      const row = document.createElement("div");
      row.append(minus, plus);
      head.append(row, words);
    }
    return head;
  });
  heads.replaceChildren(...children);
  $("layer-add").disabled = state.limits && sizes.length - 2 >= state.limits.max_layers;
  $("layer-remove").disabled = sizes.length - 2 <= 0;
}

function changeWidth(layer, delta) {
  const sizes = hiddenSizes(state.settings);
  sizes[layer - 1] += delta;
  changeHidden(sizes);
}

/* What is under the mouse in the network picture: a neuron, a bias, an edge, or null. */
function hitTest(x, y) {
  const layout = state.layout;
  if (!layout) return null;
  for (const bias of layout.biases) {
    if (x >= bias.x - 2 && x <= bias.x + bias.side + 2 && y >= bias.y - 2 && y <= bias.y + bias.side + 2) {
      return { kind: "bias", ...bias };
    }
  }
  for (let c = 0; c < layout.layers.length; c++) {
    for (let n = 0; n < layout.layers[c].length; n++) {
      const box = layout.layers[c][n];
      if (x >= box.x && x <= box.x + box.side && y >= box.y && y <= box.y + box.side) {
        return { kind: c === 0 ? "input" : c === layout.layers.length - 1 ? "output" : "neuron", layer: c, neuron: n + 1, box };
      }
    }
  }
  let nearest = null, best = 4;  // within 4 px of the line
  for (const edge of layout.edges) {
    const distance = distanceToSegment(x, y, edge);
    if (distance < best) { best = distance; nearest = edge; }
  }
  return nearest ? { kind: "edge", ...nearest } : null;
}

function distanceToSegment(x, y, { x0, y0, x1, y1 }) {
  const dx = x1 - x0, dy = y1 - y0;
  const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
}

function wireNetwork(canvas) {
  canvas.addEventListener("mousemove", (event) => {
    const rect = canvas.getBoundingClientRect();
    const hit = hitTest(event.clientX - rect.left, event.clientY - rect.top);
    state.hover = hit ? { ...hit, clientX: event.clientX, clientY: event.clientY } : null;
    canvas.classList.toggle("pointing", Boolean(hit && hit.kind !== "input"));
    if (state.hover) showTooltip(state.hover);
    else $("tooltip").hidden = true;
  });
  canvas.addEventListener("mouseleave", () => { state.hover = null; $("tooltip").hidden = true; });
  canvas.addEventListener("click", (event) => {
    const rect = canvas.getBoundingClientRect();
    const hit = hitTest(event.clientX - rect.left, event.clientY - rect.top);
    if (!hit || hit.kind === "input") return;
    if (hit.kind === "output") openFocus({ kind: "output" });
    else if (hit.kind === "neuron") openFocus({ kind: "neuron", layer: hit.layer, neuron: hit.neuron });
    else if (hit.kind === "bias") openFocus({ kind: "edge", layer: hit.layer, neuron: hit.neuron, input: 0 });
    else openFocus({ kind: "edge", layer: hit.layer, neuron: hit.neuron, input: hit.input });
  });
}

/* The live value of neuron `neuron` (1-based) of column `column` for the chosen point, if the frame has it. */
function liveValue(frame, column, neuron) {
  const values = frame.network.values;
  if (!values) return null;
  const row = values.length === frame.network.sizes.length ? values[column] : values[column - 1];
  return row ? row[neuron - 1] : null;
}

function neuronName(layer, neuron, sizes) {
  if (layer === sizes.length - 1) return sizes[layer] === 1 ? "the output" : `output ${neuron}`;
  return `layer ${layer}, neuron ${neuron}`;
}

function inputName(layer, input) {
  return layer === 1 ? `x${input}` : `layer ${layer - 1}, neuron ${input}`;
}

function showTooltip(hover) {
  const frame = state.frame;
  const layout = state.layout;
  if (!frame || !layout) return;
  const tooltip = $("tooltip"), text = $("tooltip-text"), mapCanvas = $("tooltip-map");
  const sizes = frame.network.sizes;
  const lines = [];
  let image = null;
  if (hover.kind === "input") {
    image = inputMap(frame, hover.neuron - 1);
    lines.push(`input x${hover.neuron}`);
    const point = frame.chosen === null || frame.chosen === undefined ? null : frame.points[frame.chosen];
    if (point) lines.push(`value for the chosen point: ${fmt(point[hover.neuron - 1])}`);
  } else if (hover.kind === "neuron" || hover.kind === "output") {
    const map = layout.maps.get(`${hover.layer}:${hover.neuron}`);
    image = map ? map.image : null;
    lines.push(neuronName(hover.layer, hover.neuron, sizes));
    lines.push(`bias b = ${fmt(frame.network.biases[hover.layer - 1][hover.neuron - 1])}`);
    const value = liveValue(frame, hover.layer, hover.neuron);
    if (value !== null && value !== undefined) lines.push(`value for the chosen point: ${fmt(value)}`);
    if (map) lines.push(`over the plane: ${fmt(map.low)} to ${fmt(map.high)}`);
    if (hover.kind === "output") {
      lines.push(sizes[hover.layer] === 1 ? "above 0: class 1 (blue); below 0: class 0 (orange)"
        : `the largest output wins: this one is class ${hover.neuron - 1}`);
      lines.push("click: the loss of the chosen point as a graph");
    } else lines.push("click: its computation graph");
  } else if (hover.kind === "bias") {
    const grads = frame.network.bias_grads;
    lines.push(`bias of ${neuronName(hover.layer, hover.neuron, sizes)}`);
    lines.push(`b = ${fmt(hover.bias)}`);
    if (grads) lines.push(`d loss / d b (batch) = ${fmt(grads[hover.layer - 1][hover.neuron - 1])}`);
    lines.push("click: the numbers and the formula");
  } else if (hover.kind === "edge") {
    const grads = frame.network.weight_grads;
    lines.push(`weight from ${inputName(hover.layer, hover.input)} to ${neuronName(hover.layer, hover.neuron, sizes)}`);
    lines.push(`w = ${fmt(hover.weight)}`);
    if (grads) lines.push(`d loss / d w (batch) = ${fmt(grads[hover.layer - 1][hover.neuron - 1][hover.input - 1])}`);
    lines.push("click: the numbers and the formula");
  }
  mapCanvas.hidden = !image;
  if (image) {
    const ctx = mapCanvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(image, 0, 0, mapCanvas.width, mapCanvas.height);
  }
  text.replaceChildren(...lines.map((line) => {
    const div = document.createElement("div");
    div.textContent = line;
    return div;
  }));
  tooltip.hidden = false;
  // Beside the mouse, kept inside the window.
  const box = tooltip.getBoundingClientRect();
  const left = Math.min(hover.clientX + 16, window.innerWidth - box.width - 8);
  const top = Math.min(hover.clientY + 16, window.innerHeight - box.height - 8);
  tooltip.style.left = `${Math.max(8, left) + window.scrollX}px`;
  tooltip.style.top = `${Math.max(8, top) + window.scrollY}px`;
}

// --- curves ------------------------------------------------------------------------------------

function drawCurve(canvas, curves, [trainKey, testKey], isAccuracy) {
  fitCanvas(canvas);
  const ctx = context(canvas);
  const width = canvas.clientWidth, height = canvas.clientHeight;
  ctx.clearRect(0, 0, width, height);
  const steps = curves.step || [];
  const series = [curves[trainKey] || [], curves[testKey] || []];
  const finite = series.flat().filter(Number.isFinite);
  const high = isAccuracy ? 1 : Math.max(1e-9, ...finite);
  const low = 0;
  ctx.font = "11px system-ui, sans-serif";
  const highText = isAccuracy ? "100 %" : fmt(high, 3);
  const left = Math.ceil(ctx.measureText(highText).width) + 8, right = width - 6, top = 6, bottom = height - 16;
  ctx.strokeStyle = "#ccc";
  ctx.lineWidth = 1;
  ctx.strokeRect(left, top, right - left, bottom - top);
  ctx.fillStyle = "#555";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "top";
  ctx.fillText(highText, left - 4, top);
  ctx.textBaseline = "bottom";
  ctx.fillText(isAccuracy ? "0 %" : "0", left - 4, bottom);
  if (steps.length === 0) return;
  const first = steps[0], last = steps[steps.length - 1];
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(`step ${first}`, left, bottom + 2);
  ctx.textAlign = "right";
  ctx.fillText(`step ${last}`, right, bottom + 2);
  const xOf = (step) => left + (last === first ? 0 : (step - first) / (last - first)) * (right - left);
  const yOf = (value) => bottom - (Math.min(value, high) - low) / (high - low) * (bottom - top);
  series.forEach((values, index) => {
    ctx.strokeStyle = index === 0 ? "#222" : "#777";
    ctx.setLineDash(index === 0 ? [] : [5, 4]);
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    let drawing = false;
    values.forEach((value, i) => {
      if (!Number.isFinite(value)) { drawing = false; return; }
      if (drawing) ctx.lineTo(xOf(steps[i]), yOf(value));
      else ctx.moveTo(xOf(steps[i]), yOf(value));
      drawing = true;
    });
    ctx.stroke();
  });
  ctx.setLineDash([]);
}

// --- the graph panel ----------------------------------------------------------------------------

async function openFocus(request) {
  state.focusRequest = request;
  state.focusSince = Date.now();
  try {
    const chosen = state.frame ? state.frame.chosen : null;
    const answer = await api("POST", sessionPath("select"), { point: chosen ?? null, focus: request });
    if (state.focusRequest !== request) return;  // another click came first: its answer is the one to show
    showFocus(answer);
    state.focusSince = Date.now();
    $("focus").scrollIntoView({ block: "nearest", behavior: "smooth" });
  } catch (error) {
    if (state.focusRequest !== request) return;
    state.focusRequest = null;
    $("focus-body").replaceChildren(messageElement(error.message, true));
  }
  if (state.frame) drawNetwork($("network"), state.frame);
}

function messageElement(text, isError = false) {
  const p = document.createElement("p");
  p.className = isError ? "message error" : "message";
  p.textContent = text;
  return p;
}

/* Insert the focus's static part: its title, formula, the install hint, or its SVG. */
function showFocus(answer) {
  $("focus-title").textContent = answer.title || "";
  state.focusNumbers = answer.numbers || null;
  const body = [];
  state.focusSvg = null;
  state.focusTexts = new Map();
  const note = document.createElement("p");
  note.id = "focus-note";
  note.className = "hint";
  body.push(note);
  if (answer.error) body.push(messageElement(answer.error, true));
  if (answer.formula) body.push(formulaElement(answer.formula));
  if (answer.kind === "edge") {
    const table = document.createElement("table");
    table.className = "edge-numbers";
    table.id = "edge-numbers";
    body.push(table);
  }
  if (answer.svg) {
    const svg = parseSvg(answer.svg);
    if (svg) {
      const box = document.createElement("div");
      box.className = "svg-box";
      box.id = "svg-box";
      box.append(svg);
      body.push(box);
      state.focusSvg = svg;
      state.focusTexts = titledTexts(svg);
    } else body.push(messageElement("The server's picture could not be read as SVG.", true));
  }
  $("focus-body").replaceChildren(...body);
  $("fit-graph").hidden = !state.focusSvg;
  $("fit-graph").textContent = "fit to width";
  if (state.focusNumbers) showFocusNumbers(state.focusNumbers);
}

function formulaElement(text) {
  const p = document.createElement("p");
  p.className = "formula";
  p.textContent = text;
  return p;
}

/* Our server's SVG, parsed as XML (scripts in it never run) and imported into this page. */
function parseSvg(text) {
  const parsed = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = parsed.documentElement;
  if (!root || root.nodeName !== "svg" || parsed.getElementsByTagName("parsererror").length) return null;
  for (const script of root.querySelectorAll("script, foreignObject")) script.remove();
  const svg = document.importNode(root, true);
  // Graphviz sizes its pictures in points (1 pt = 1.33 px); one px per point keeps the text
  // readable (about 11 px) and the picture a quarter smaller.
  for (const side of ["width", "height"]) {
    const size = parseFloat(svg.getAttribute(side) || "");
    if (Number.isFinite(size)) svg.style[side] = `${size}px`;
  }
  return svg;
}

/* Graphviz writes each node and edge as <g><title>name</title>...<text>...</text></g>:
   for each title, the <text> elements of each group that has it, in document order. */
function titledTexts(svg) {
  const texts = new Map();
  for (const group of svg.querySelectorAll("g")) {
    const title = group.querySelector(":scope > title");
    if (!title) continue;
    if (!texts.has(title.textContent)) texts.set(title.textContent, []);
    texts.get(title.textContent).push([...group.querySelectorAll("text")]);
  }
  return texts;
}

/* Each frame's live numbers for the open graph: new <text> contents, and an edge's numbers. */
function drawFocusNumbers(frame) {
  const focus = frame.focus;
  const chosen = frame.chosen;
  $("focus-point").textContent = chosen === null || chosen === undefined || !frame.points[chosen] ? "" :
    `For point #${chosen}: x1 = ${fmt(frame.points[chosen][0], 2)}, x2 = ${fmt(frame.points[chosen][1], 2)}, ` +
    `class ${frame.points[chosen][2]}, ${frame.points[chosen][3] ? "a test point" : "a training point"} ` +
    "(choose another: ctrl- or alt-click on the plane).";
  if (focus && focus !== state.focusNumbers) showFocusNumbers(focus);
  // The session closes the graph when the network or the data is rebuilt (or its point removed).
  // A frame built just before the graph opened may still arrive without it: only later ones count.
  if (!focus && state.focusRequest && Date.now() - state.focusSince > FOCUS_GRACE_MS) {
    closeFocus("The graph closed because the network or its data changed: click a neuron, an edge or the output again.");
  }
}

const FOCUS_GRACE_MS = 1500;

function closeFocus(why) {
  state.focusRequest = null;
  state.focusSvg = null;
  state.focusTexts = new Map();
  state.focusNumbers = null;
  $("focus-title").textContent = "";
  $("fit-graph").hidden = true;
  $("focus-body").replaceChildren(messageElement(why));
}

/* New numbers for the open graph: the <text> contents of its groups, a note, an edge's numbers.
   `texts` is [[group title, [text, ...]], ...]; the k-th entry of a title is the k-th group of that title. */
function showFocusNumbers(numbers) {
  state.focusNumbers = numbers;
  if (numbers.texts && state.focusSvg) {
    const entries = Array.isArray(numbers.texts) ? numbers.texts : Object.entries(numbers.texts);
    const seen = new Map();
    for (const [title, values] of entries) {
      const k = seen.get(title) || 0;
      seen.set(title, k + 1);
      const elements = (state.focusTexts.get(title) || [])[k];
      if (!elements) continue;
      values.forEach((value, i) => { if (elements[i]) elements[i].textContent = value; });
    }
  }
  const note = $("focus-note");
  if (note) {
    const loss = numbers.loss === undefined ? "" : `Loss of this point: ${fmt(numbers.loss, 4)}. `;
    note.textContent = loss + (numbers.note || "");
  }
  const table = $("edge-numbers");
  if (table && numbers.edge) showEdgeNumbers(table, numbers.edge);
}

function showEdgeNumbers(table, edge) {
  const rows = [
    ["from", edge.from],
    ["to", edge.to],
    [`${state.focusRequest && state.focusRequest.input === 0 ? "the bias" : "the weight"} ${edge.name || ""}`, edge.weight],
    ["its input (for the chosen point)", edge.input],
    ["upstream gradient d loss / d (w × input)", edge.upstream],
    ["d loss / d w for the chosen point", edge.grad_point],
    ["d loss / d w for the last batch", edge.grad_batch],
  ];
  table.replaceChildren(...rows.filter(([, value]) => value !== undefined).map(([name, value]) => {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = name;
    const td = document.createElement("td");
    td.textContent = typeof value === "number" ? fmt(value, 4) : value === null ? "not finite" : String(value);
    row.append(th, td);
    return row;
  }));
  let formula = table.parentElement.querySelector(".formula");
  if (edge.formula) {
    if (!formula) {
      formula = formulaElement("");
      table.after(formula);
    }
    formula.textContent = edge.formula;
  }
}

document.addEventListener("DOMContentLoaded", start);
