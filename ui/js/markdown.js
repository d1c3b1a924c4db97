// markdown.js - a small, safe Markdown renderer for model output.
//
// It builds DOM nodes (dom.js h()), never HTML strings, so raw HTML in a
// reply shows up as the text it is. Links keep only http(s) and mailto
// targets and open in a new tab without a referrer or opener. Covered:
// paragraphs, headings, fenced code (with a copy button), lists, quotes,
// rules, tables, and inline code, bold, italic, strikethrough and links.

import { h, toast } from "./dom.js";

const SAFE_URL = /^(https?:|mailto:)/i;

function inline(text) {
  const out = [];
  // code | bold | italic | strike | link | autolink
  const re = /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)|\*\*([^*]+)\*\*|__([^_]+)__|\*([^*\s][^*]*)\*|(?<![\w])_([^_\s][^_]*)_(?![\w])|~~([^~]+)~~|\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;
  let last = 0, m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) out.push(h("code", m[2].trim() ? m[2] : m[2]));
    else if (m[3] || m[4]) out.push(h("strong", inline(m[3] || m[4])));
    else if (m[5] || m[6]) out.push(h("em", inline(m[5] || m[6])));
    else if (m[7]) out.push(h("del", inline(m[7])));
    else if (m[8]) out.push(link(m[9], inline(m[8])));
    else if (m[10]) out.push(link(m[10], m[10]));
    last = re.lastIndex;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function link(href, children) {
  if (!SAFE_URL.test(href)) return h("span", children);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, children);
}

export function codeBlock(code, lang) {
  const copy = h("button.copy", { type: "button", "aria-label": "Copy code" }, "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code);
      copy.textContent = "Copied";
      setTimeout(() => (copy.textContent = "Copy"), 1500);
    } catch {
      toast("Copy failed: the browser refused clipboard access", "error");
    }
  });
  return h("div.codeblock",
    h("div.codebar", h("span.lang", lang || "text"), copy),
    h("pre", { tabindex: "0" }, h("code", code)));
}

function isTableSep(line) {
  return /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);
}

function cells(line) {
  return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => c.trim());
}

/** Render `src` into a DocumentFragment. */
export function renderMarkdown(src) {
  const frag = document.createDocumentFragment();
  const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
  let i = 0;
  const para = [];
  const flush = () => {
    if (para.length) frag.append(h("p", inline(para.join("\n"))));
    para.length = 0;
  };
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if ((m = /^\s*(```+|~~~+)\s*([\w+#.-]*)/.exec(line))) {
      flush();
      const fence = m[1], lang = m[2];
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence); i++) body.push(lines[i]);
      i++;
      frag.append(codeBlock(body.join("\n"), lang));
      continue;
    }
    if (!line.trim()) {
      flush();
      i++;
      continue;
    }
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) {
      flush();
      const level = Math.min(6, m[1].length + 2); // h3.. inside a chat bubble
      frag.append(h(`h${level}`, inline(m[2].replace(/\s#+\s*$/, ""))));
      i++;
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      frag.append(h("hr"));
      i++;
      continue;
    }
    if (/^\s*>/.test(line)) {
      flush();
      const body = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) body.push(lines[i].replace(/^\s*>\s?/, ""));
      frag.append(h("blockquote", renderMarkdown(body.join("\n"))));
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && isTableSep(lines[i + 1])) {
      flush();
      const head = cells(line);
      const rows = [];
      for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) rows.push(cells(lines[i]));
      frag.append(h("div.tablewrap", h("table",
        h("thead", h("tr", head.map((c) => h("th", inline(c))))),
        h("tbody", rows.map((r) => h("tr", head.map((_, k) => h("td", inline(r[k] || "")))))))));
      continue;
    }
    if ((m = /^(\s*)([-*+]|\d+[.)])\s+/.exec(line))) {
      flush();
      const ordered = /\d/.test(m[2]);
      const list = h(ordered ? "ol" : "ul");
      if (ordered && parseInt(m[2], 10) !== 1) list.setAttribute("start", String(parseInt(m[2], 10)));
      while (i < lines.length) {
        const lm = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(lines[i]);
        if (!lm || /\d/.test(lm[2]) !== ordered) break;
        const item = [lm[3]];
        for (i++; i < lines.length && /^\s{2,}\S/.test(lines[i]) && !/^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++)
          item.push(lines[i].trim());
        const text = item.join("\n");
        const task = /^\[([ xX])\]\s+/.exec(text);
        list.append(h("li", task ? [h("input", { type: "checkbox", disabled: true, checked: task[1] !== " ", "aria-label": "task" }), " ", inline(text.slice(task[0].length))] : inline(text)));
      }
      frag.append(list);
      continue;
    }
    para.push(line);
    i++;
  }
  flush();
  return frag;
}
