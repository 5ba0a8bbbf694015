// Client-side Markdown for the pages that show it (/skills/:slug, /artifacts/:id, /memory): marked turns the
// text into HTML, DOMPurify cleans it, and only then does it reach the page. Only those pages carry it.
import { markdownVendor } from "./markdown.macro" with { type: "macro" };

// Raw HTML written in the Markdown is shown as text, not parsed: model output, memory and skill files have no
// need of it, and Chromium reports every on* attribute it parses (even in DOMPurify's inert document) as a CSP
// violation on the console. DOMPurify then cleans what marked itself built (links, images, code, tables).
// What DOMPurify keeps beyond its defaults, and what it drops besides scripts and handlers:
// - no inline style (the page's CSP would refuse it and log an error), no ids, names or classes (an id in a
//   document could shadow the page's own elements, a class could dress text up as the page's own messages);
// - no form controls (a document cannot post anything or ask for input), no <style>;
// - images load only from data: URLs; any other source becomes a link, so a document makes no request the
//   reader did not choose (and the CSP, img-src 'self' data:, does not log a refusal);
// - links keep http(s), mailto and relative targets; javascript: and the like are dropped by DOMPurify.
const RENDERER = `
var markdown = (function () {
  var md = new marked.Marked({ gfm: true, async: false });
  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(t) { return String(t).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  // A document's headings sit under the page's own: render(el, text, 2) makes its "#" an <h3>.
  var shift = 0;
  md.use({ walkTokens: function (t) { if (t.type === "heading") t.depth = Math.min(6, t.depth + shift); } });
  md.use({ renderer: { html: function (token) { return token.block ? "<pre><code>" + esc(token.text.replace(/\\n+$/, "")) + "</code></pre>\\n" : esc(token.text); } } });
  var CONFIG = { USE_PROFILES: { html: true }, RETURN_DOM_FRAGMENT: true,
    FORBID_TAGS: ["style", "form", "input", "button", "select", "option", "textarea", "label", "fieldset", "dialog"],
    FORBID_ATTR: ["style", "id", "name", "class", "form", "tabindex", "accesskey", "autofocus"] };
  var DATA_IMAGE = /^data:image\\/(png|jpe?g|gif|webp);/i;
  DOMPurify.addHook("afterSanitizeAttributes", function (node) {
    if (node.nodeName === "A" && node.hasAttribute("href")) node.setAttribute("rel", "noopener noreferrer");
    if (node.nodeName === "IMG") {
      var src = node.getAttribute("src") || "";
      if (!DATA_IMAGE.test(src)) { node.removeAttribute("src"); node.removeAttribute("srcset"); node.setAttribute("data-md-src", src); }
      if (!node.hasAttribute("alt")) node.setAttribute("alt", "");
    }
  });
  function render(el, text, headingShift) {
    shift = headingShift || 0;
    var frag = DOMPurify.sanitize(md.parse(String(text == null ? "" : text)), CONFIG);
    frag.querySelectorAll("img[data-md-src]").forEach(function (img) {
      var src = img.getAttribute("data-md-src"), label = "Image: " + (img.getAttribute("alt") || src || "no source");
      var out;
      if (/^https?:/i.test(src)) { out = document.createElement("a"); out.href = src; out.rel = "noopener noreferrer"; }
      else out = document.createElement("span");
      out.textContent = "[" + label + "]"; img.replaceWith(out);
    });
    // A code block wider than the page scrolls: focusable, so a keyboard can scroll it too (axe: scrollable-region-focusable).
    frag.querySelectorAll("pre").forEach(function (pre) { pre.tabIndex = 0; });
    el.replaceChildren(frag);
  }
  return { render: render };
})();
`;

/** One inline block with marked, DOMPurify and `markdown.render(element, text, headingShift?)`; put it in a page's body. */
export const MARKDOWN_SCRIPT = `<script>${markdownVendor()}\n${RENDERER}</script>`;
