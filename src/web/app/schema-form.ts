// Forms generated from a JSON Schema's properties (a workflow's input, a suspended step's resumeSchema), as a
// plain-JS string for the workflow pages: one labelled control per property, checked before sending, and the
// API's own field errors (error.param) shown next to the field they name. Also the helpers both pages share.

export const SCHEMA_FORM = `
var fieldSeq = 0;
function humanize(name) { var s = String(name).replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2"); return s.charAt(0).toUpperCase() + s.slice(1); }
function fieldKind(p) {
  if (Array.isArray(p.enum) && p.enum.length) return "enum";
  var t = Array.isArray(p.type) ? p.type.filter(function (x) { return x !== "null"; })[0] : p.type;
  if (t === "string" || t === "number" || t === "integer" || t === "boolean") return t;
  if (t === "array") return !p.items || p.items.type === "string" ? "lines" : "json";
  return t ? "json" : "text";
}
// Long free text reads better in a text area; a short name or id in a one-line box.
function longText(name, p) { return p.format === "textarea" || (p.maxLength || 0) > 200 || /notes|body|text|content|message|prompt|code|doc/i.test(name); }
/** Adds a control for each property of schema to form (before its last child), except opts.skip. */
function schemaFields(form, schema, opts) {
  schema = schema || {}; opts = opts || {};
  var props = schema.properties || {}, required = schema.required || [], fields = {}, order = [];
  var anchor = opts.before || null;
  Object.keys(props).forEach(function (name) {
    if ((opts.skip || []).indexOf(name) >= 0) return;
    var p = props[name] || {}, kind = fieldKind(p), req = required.indexOf(name) >= 0, id = "field-" + (++fieldSeq);
    var wrap = document.createElement("div"); wrap.className = "field" + (kind === "boolean" ? " check" : "");
    var label = document.createElement("label"); label.htmlFor = id; label.textContent = p.title || humanize(name);
    if (req) { var mark = document.createElement("span"); mark.className = "req"; mark.textContent = " (required)"; label.append(mark); }
    var input;
    if (kind === "enum") {
      input = document.createElement("select");
      // A required choice with no default starts on "Choose…": the person makes it, the form does not.
      var hasDefault = p.default !== undefined && p.enum.indexOf(p.default) >= 0;
      if (!req || !hasDefault) { var none = document.createElement("option"); none.value = ""; none.textContent = req ? "Choose…" : "—"; input.append(none); }
      p.enum.forEach(function (v, i) { var o = document.createElement("option"); o.value = String(i); o.textContent = String(v); input.append(o); });
      if (hasDefault) input.value = String(p.enum.indexOf(p.default));
    } else if (kind === "boolean") {
      input = document.createElement("input"); input.type = "checkbox"; input.checked = p.default === true;
    } else if (kind === "number" || kind === "integer") {
      input = document.createElement("input"); input.type = "number"; input.step = kind === "integer" ? "1" : "any";
      if (typeof p.minimum === "number") input.min = String(p.minimum);
      if (typeof p.maximum === "number") input.max = String(p.maximum);
      if (typeof p.default === "number") input.value = String(p.default);
    } else if (kind === "lines" || kind === "json" || (kind === "string" && longText(name, p))) {
      input = document.createElement("textarea"); input.rows = kind === "json" ? 5 : 3;
      if (kind === "json" && p.default !== undefined) input.value = JSON.stringify(p.default, null, 2);
      else if (kind === "lines" && Array.isArray(p.default)) input.value = p.default.join("\\n");
      else if (typeof p.default === "string") input.value = p.default;
    } else {
      input = document.createElement("input"); input.type = "text"; if (typeof p.default === "string") input.value = p.default;
    }
    input.id = input.name = id;
    if (req) input.setAttribute("aria-required", "true");
    var hintText = [p.title && p.description ? p.description : (!p.title ? p.description : ""), kind === "lines" ? "One per line." : "", kind === "json" ? "JSON" + (p.type === "object" ? " object." : p.type === "array" ? " list." : ".") : ""].filter(Boolean).join(" ");
    var described = [];
    if (hintText) { var hint = document.createElement("small"); hint.className = "hint"; hint.id = id + "-hint"; hint.textContent = hintText; described.push(hint.id); }
    var err = document.createElement("span"); err.className = "field-err"; err.id = id + "-err"; err.hidden = true; described.push(err.id);
    input.setAttribute("aria-describedby", described.join(" "));
    if (kind === "boolean") wrap.append(input, label); else wrap.append(label, input);
    if (hint) wrap.append(hint);
    wrap.append(err);
    form.insertBefore(wrap, anchor);
    hint = null;
    fields[name] = { p: p, kind: kind, req: req, input: input, err: err, label: p.title || humanize(name) };
    order.push(name);
  });
  function showError(name, text) {
    var f = fields[name]; if (!f) return false;
    f.err.textContent = text; f.err.hidden = !text;
    if (text) f.input.setAttribute("aria-invalid", "true"); else f.input.removeAttribute("aria-invalid");
    return true;
  }
  function read(f) {
    var v = f.input.value;
    switch (f.kind) {
      case "enum": return v === "" ? undefined : f.p.enum[Number(v)];
      case "boolean": return f.input.checked;
      case "number": case "integer":
        if (v.trim() === "") return undefined;
        var n = Number(v);
        if (!isFinite(n)) throw new Error("must be a number");
        if (f.kind === "integer" && !Number.isInteger(n)) throw new Error("must be a whole number");
        return n;
      case "lines": var lines = v.split("\\n").map(function (s) { return s.trim(); }).filter(Boolean); return lines.length ? lines : undefined;
      case "json":
        if (v.trim() === "") return undefined;
        var j; try { j = JSON.parse(v); } catch (e) { throw new Error("is not valid JSON (" + e.message + ")"); }
        if (f.p.type === "object" && (typeof j !== "object" || j === null || Array.isArray(j))) throw new Error("must be a JSON object, like {\\"key\\": \\"value\\"}");
        if (f.p.type === "array" && !Array.isArray(j)) throw new Error("must be a JSON list, like [1, 2]");
        return j;
      default: return v === "" ? undefined : v;
    }
  }
  return {
    showError: showError,
    /** The form's data, or null after showing each problem next to its field (and focusing the first). */
    collect: function () {
      var data = {}, first = null;
      order.forEach(function (name) {
        var f = fields[name], problem = "";
        try { var v = read(f); if (v === undefined) { if (f.req) problem = f.label + " is required."; } else data[name] = v; }
        catch (e) { problem = f.label + " " + e.message + "."; }
        showError(name, problem);
        if (problem && !first) first = f.input;
      });
      if (first) { first.focus(); return null; }
      return data;
    },
    /** An API error naming a field (param "inputData.x" / "resumeData.x"): shown next to it. */
    showApiError: function (err) {
      var m = /^(?:inputData|resumeData|input)\\.([^.]+)/.exec(err.param || "");
      return !!(m && showError(m[1], err.message));
    },
  };
}
/** Every workflow definition: the list is a plain {data} or the paged envelope, whose cursor is followed. */
async function allDefinitions() {
  var list = [], after = null;
  do {
    var res = await api("/api/v1/workflows/definitions?limit=100" + (after ? "&after_id=" + encodeURIComponent(after) : ""));
    var rows = Array.isArray(res) ? res : (res.data || []);
    list = list.concat(rows);
    after = res.has_more && rows.length ? (res.last_id || rows[rows.length - 1].id) : null;
  } while (after);
  return list;
}
function badge(status) { var b = document.createElement("span"); b.className = "badge " + status; b.textContent = status; return b; }
`;
