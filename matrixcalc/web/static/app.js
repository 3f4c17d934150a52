// The page of `matrixcalc serve`. It asks the JSON API (same origin) and builds every
// node with createElement / textContent: no user text (nor anything the server echoes)
// ever goes through innerHTML. MathML from the server (already sanitized there) is parsed
// as XML and copied node by node, keeping only MathML elements and presentation attributes.
"use strict";

const MATHML_NS = "http://www.w3.org/1998/Math/MathML";
const MATH_ATTRIBUTES = new Set([
  "display", "mathvariant", "stretchy", "fence", "form", "separator", "lspace", "rspace",
  "accent", "accentunder", "movablelimits", "largeop", "symmetric", "minsize", "maxsize",
  "columnalign", "columnspacing", "rowalign", "rowspacing", "displaystyle", "scriptlevel",
  "width", "height", "depth", "linethickness", "notation", "linebreak",
]);
const FIELDS = { op: "operation", expr: "expression", wrt: "wrt", where: "where",
                 method: "method" };
const TITLES = { derive: "derivative", jacobian: "Jacobian", hessian: "Hessian" };

let generation = 0;  // answers to an older request than the latest are dropped

// -- building nodes ------------------------------------------------------------------------

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

function section(title, id, ...children) {
  return el("section", { class: "block", id }, el("h2", { text: title }), ...children);
}

function math(mathml) {
  // MathML text from the server -> DOM nodes, copied through the allow-list above.
  const doc = new DOMParser().parseFromString(mathml || "", "application/xml");
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== MATHML_NS) return el("code", { text: "(no math)" });
  return copyMath(root);
}

function copyMath(source) {
  if (source.nodeType === Node.TEXT_NODE) return document.createTextNode(source.data);
  if (source.nodeType !== Node.ELEMENT_NODE || source.namespaceURI !== MATHML_NS) return null;
  const node = document.createElementNS(MATHML_NS, source.localName);
  for (const attribute of source.attributes) {
    if (MATH_ATTRIBUTES.has(attribute.name)) node.setAttribute(attribute.name, attribute.value);
  }
  for (const child of source.childNodes) {
    const copy = copyMath(child);
    if (copy) node.append(copy);
  }
  return node;
}

function copyButton(label, text) {
  const button = el("button", { type: "button", class: "copy", text: `copy ${label}` });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) {  // no clipboard permission (e.g. an old browser): the old way
      const area = el("textarea", { class: "offscreen" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    button.textContent = "copied";
    setTimeout(() => { button.textContent = `copy ${label}`; }, 1500);
  });
  return button;
}

function codeBlock(label, text, cls) {
  return el("div", { class: "code" }, copyButton(label, text),
            el("pre", { class: cls || "" }, el("code", { text })));
}

function errorBlock(answer) {
  const error = answer.error || {};
  return el("div", { class: "error-box" },
            el("p", { class: "error-kind", text: error.kind || "error" }),
            el("pre", { class: "error", text: error.text || error.message || "" }));
}

// -- talking to the server --------------------------------------------------------------------

async function api(path, body) {
  let response;
  try {
    response = await fetch(path, {
      method: body ? "POST" : "GET",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    return failure("the server cannot be reached: is `matrixcalc serve` still running?");
  }
  try {
    return await response.json();
  } catch (error) {
    return failure(`the server answered ${response.status} without JSON`);
  }
}

function failure(words) {
  return { schema: "matrixcalc.error/1", error: { kind: "error", text: words } };
}

function isError(answer) {
  return answer.schema === "matrixcalc.error/1";
}

// -- the form ----------------------------------------------------------------------------------

function field(name) {
  return document.getElementById(FIELDS[name]);
}

function inputs() {
  const out = {};
  for (const name of Object.keys(FIELDS)) out[name] = field(name).value.trim();
  return out;
}

function showOperation() {
  const op = field("op").value;
  document.body.dataset.op = op;
  document.getElementById("expression-label").textContent = op === "verify" ? "claim" : "f =";
  field("expr").placeholder = op === "verify" ? "d/dX tr(A X) = A^T" : "x^T A x";
}

function remember(values) {
  // The inputs in the URL: reloading (or sharing) the link reproduces the page.
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value && !(name === "method" && values.op !== "explain")) params.set(name, value);
  }
  const query = `?${params}`;
  history.replaceState(null, "", query);
  document.getElementById("permalink").href = query;
}

function fill(values) {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const node = field(name);
    if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === value)) continue;
    node.value = value;
  }
  showOperation();
}

async function compute() {
  const values = inputs();
  remember(values);
  const mine = ++generation;
  const output = document.getElementById("output");
  output.replaceChildren();
  setState("busy", "computing…");
  const started = performance.now();
  const answer = await request(values);
  if (mine !== generation) return;
  output.replaceChildren(...render(values, answer));
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  setState(isError(answer) ? "error" : "done", isError(answer) ? "" : `${seconds} s`);
}

function request(values) {
  const where = values.where || null;
  if (values.op === "verify") {
    return api("/api/verify", { statement: values.expr, where, render: true });
  }
  if (values.op === "explain") {
    return api("/api/explain", { expression: values.expr, wrt: values.wrt, where,
                                 method: values.method || "index", render: true });
  }
  return api(`/api/${values.op}`, { expression: values.expr, wrt: values.wrt, where,
                                    check: true, render: true });
}

function setState(state, words) {
  document.body.dataset.state = state;
  document.getElementById("status").textContent = words;
}

// -- what an answer shows ------------------------------------------------------------------------

function render(values, answer) {
  if (isError(answer)) return [errorBlock(answer)];
  if (values.op === "verify") return renderVerdict(answer);
  if (values.op === "explain") return renderExplanation(answer);
  return renderDerivative(answer);
}

function renderDerivative(answer) {
  const out = [section("function", "input", el("div", { class: "math" },
                                                   math(answer.input_mathml)))];
  for (const result of answer.results) out.push(renderResult(answer, result));
  out.push(renderSymbols(answer.symbols));
  out.push(renderCheck(answer.check));
  out.push(renderCode(answer.code || {}));
  if (answer.warnings && answer.warnings.length) {
    out.push(section("warnings", "warnings",
                     ...answer.warnings.map((w) => el("pre", { class: "warning", text: w }))));
  }
  return out;
}

function renderResult(answer, result) {
  const title = `${TITLES[answer.command]} by ${result.wrt.join(", ")}: ${describe(result)}`;
  return section(title, "result",
    el("div", { class: "math result-math" }, math(result.mathml)),
    codeBlock("text", result.shared || result.text),
    codeBlock("LaTeX", result.latex, "latex"),
    el("h3", { text: "index form" }),
    result.index ? codeBlock("index form", result.index, "index")
                 : el("p", { text: "no index form" }));
}

function describe(item) {
  return item.shape.length ? `${item.kind} (${item.shape.join("×")})` : item.kind;
}

function renderSymbols(symbols) {
  const head = el("tr", {}, ...["symbol", "kind", "dimensions", "assumptions", "decided by"]
    .map((words) => el("th", { text: words })));
  const rows = symbols.map((s) => el("tr", { class: s.origin === "declared" ? "" : "inferred" },
    el("td", {}, el("code", { text: s.name })), el("td", { text: s.kind }),
    el("td", { text: s.shape.join("×") || "–" }), el("td", { text: s.assumptions.join(", ") }),
    el("td", { text: s.origin })));
  return section("symbols", "symbols", el("table", {}, el("thead", {}, head),
                                          el("tbody", {}, ...rows)));
}

function renderCheck(check) {
  if (!check) {
    return section("numeric check", "check",
                   el("p", { text: "no numeric check for variables stacked into one" }));
  }
  const words = check.ok
    ? `✓ agrees with torch.autograd: max error ${check.max_error.toExponential(1)} over ` +
      `${check.trials} random draws (seed ${check.seed})`
    : `✗ does not agree with torch.autograd (max error ${check.max_error})`;
  return section("numeric check", "check", el("p", { class: check.ok ? "ok" : "bad", text: words }),
                 check.counterexample ? el("pre", { text: check.counterexample }) : null);
}

function renderCode(code) {
  const blocks = Object.entries(code).map(([backend, answer]) => {
    if (isError(answer)) return el("div", { class: "backend" }, el("h3", { text: backend }),
                                   errorBlock(answer));
    const note = `f(${answer.inputs.join(", ")}) returns ${answer.returns}`;
    return el("div", { class: "backend", "data-backend": backend },
              el("h3", { text: backend }), el("p", { class: "note", text: note }),
              codeBlock(`${backend} code`, answer.source, `source ${backend}`));
  });
  return section("generated code", "code", ...blocks);
}

function renderVerdict(answer) {
  const head = answer.holds ? `✓ holds (${answer.how})` : "✗ does not hold";
  return [
    section("claim", "input", el("div", { class: "math" }, math(answer.statement_mathml))),
    section("verdict", "verdict",
      el("p", { class: answer.holds ? "ok" : "bad", text: head }),
      answer.diagnosis ? el("p", { class: "diagnosis", text: answer.diagnosis }) : null,
      el("pre", { class: "verdict-text", text: answer.text })),
  ];
}

function renderExplanation(answer) {
  const steps = answer.steps.map((step) => el("li", { class: "step" },
    el("h3", { text: step.title }),
    step.mathml ? el("div", { class: "math" }, ...step.mathml.map(
      (m) => el("div", { class: "math-line" }, math(m))))
                : el("pre", { text: step.text })));
  return [section(`explained (${answer.method})`, "explanation",
                  el("ol", { class: "steps" }, ...steps),
                  codeBlock("text", answer.text))];
}

// -- start ---------------------------------------------------------------------------------------

function renderExamples(examples) {
  const aside = document.getElementById("examples");
  const groups = new Map();
  for (const example of examples) {
    if (!groups.has(example.group)) groups.set(example.group, []);
    groups.get(example.group).push(example);
  }
  for (const [group, items] of groups) {
    const list = el("ul", {}, ...items.map((item) => {
      const button = el("button", { type: "button", class: "example", text: item.title,
                                    title: item.expression });
      button.addEventListener("click", () => {
        fill({ op: item.operation, expr: item.expression, wrt: item.wrt, where: item.where });
        compute();
      });
      return el("li", {}, button);
    }));
    aside.append(el("details", { open: "" }, el("summary", { text: group }), list));
  }
}

function offer(info) {
  const methods = field("method");
  methods.replaceChildren(...(info.explain_methods || ["index"]).map(
    (m) => el("option", { value: m, text: m })));
  renderExamples(info.examples || []);
}

async function start() {
  document.getElementById("form").addEventListener("submit", (event) => {
    event.preventDefault();
    compute();
  });
  field("op").addEventListener("change", showOperation);
  showOperation();
  setState("loading", "starting…");
  const info = await api("/api/info");
  if (isError(info)) {
    document.getElementById("output").replaceChildren(errorBlock(info));
    setState("error", "");
    return;
  }
  offer(info);
  const params = new URLSearchParams(location.search);
  fill(Object.fromEntries([...params].filter(([name]) => name in FIELDS)));
  if (field("expr").value.trim()) {
    compute();
  } else {
    setState("ready", "");
  }
}

start();
