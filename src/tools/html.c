/*
 * html.c - HTML to readable markdown or text with libxml2; see html.h.
 *
 * The renderer is one walk over the tree writing into a capped buffer.
 * Layout is owed rather than written: a block asks for "two newlines
 * before whatever comes next" and inline whitespace for "one space", and
 * both are paid only when real text follows. That is what collapses the
 * whitespace of markup into the whitespace of prose, and it keeps empty
 * elements from leaving blank lines behind.
 */
#include "tools/html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"

/* Deeper than this, a tree is an attack or a broken generator: skipped. */
#define HTML_MAX_DEPTH 256
#define HTML_TITLE_MAX 512

struct render {
	struct buf out;
	enum html_mode mode;
	const char *base; /* absolute base URL for links, or NULL */
	int nl;           /* newlines owed before the next text (0..2) */
	bool space;       /* a space is owed before the next text */
	bool no_nl;       /* just wrote a list marker: owed newlines are dropped */
	int cell;         /* inside a table cell: newlines become spaces */
	int list;         /* list nesting */
	bool full;        /* the output cap was reached */
};

/* Elements whose content is never prose. */
static const char *const dropped[] = {
	"script", "style",  "nav",      "footer", "aside",    "noscript", "svg",
	"form",   "head",   "template", "iframe", "button",   "select",   "textarea",
	"input",  "canvas", "object",   "embed",  "dialog",   "math",     "audio",
	"video",  "map",    "label",    "option", "fieldset", "menu",
};

static pthread_once_t html_once = PTHREAD_ONCE_INIT;

static void html_init_once(void)
{
	xmlInitParser();
}

void html_init(void)
{
	pthread_once(&html_once, html_init_once);
}

static bool name_is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->name && !strcasecmp((const char *)n->name, name);
}

static const char *attr(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (a->name && !strcasecmp((const char *)a->name, name))
			return a->children && a->children->content
				       ? (const char *)a->children->content
				       : "";
	return NULL;
}

static bool is_dropped(const xmlNode *n)
{
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (name_is(n, dropped[i]))
			return true;
	if (attr(n, "hidden"))
		return true;
	if ((v = attr(n, "aria-hidden")) && !strcasecmp(v, "true"))
		return true;
	if ((v = attr(n, "role")) &&
	    (!strcasecmp(v, "navigation") || !strcasecmp(v, "banner") ||
	     !strcasecmp(v, "contentinfo") || !strcasecmp(v, "complementary")))
		return true;
	return false;
}

/* ==== output ==== */

static void put(struct render *r, const char *s, size_t n)
{
	if (r->full)
		return;
	if (buf_append(&r->out, s, n) < 0) {
		/* Keep what fits, cut at a UTF-8 boundary. */
		size_t room = r->out.max - r->out.len;

		while (room > 0 && room < n && ((unsigned char)s[room] & 0xc0) == 0x80)
			room--;
		if (room)
			buf_append(&r->out, s, room);
		r->full = true;
	}
}

static void puts_raw(struct render *r, const char *s)
{
	put(r, s, strlen(s));
}

static bool at_line_start(const struct render *r)
{
	return r->out.len == 0 || r->out.p[r->out.len - 1] == '\n';
}

/* Pay what is owed before writing text. */
static void flush(struct render *r)
{
	if (r->no_nl)
		r->nl = 0;
	if (r->out.len == 0) {
		r->nl = 0;
		r->space = false;
	}
	if (r->nl && r->cell) {
		r->space = true;
		r->nl = 0;
	}
	if (r->nl) {
		int have = 0;

		/* Count the newlines already at the end, so blocks never stack. */
		while (have < 2 && (size_t)have < r->out.len &&
		       r->out.p[r->out.len - 1 - have] == '\n')
			have++;
		while (have++ < r->nl)
			put(r, "\n", 1);
		r->space = false;
	}
	if (r->space && !at_line_start(r))
		put(r, " ", 1);
	r->nl = 0;
	r->space = false;
	r->no_nl = false;
}

static void block(struct render *r, int n)
{
	if (n > r->nl)
		r->nl = n;
	r->space = false;
}

/* Text with whitespace collapsed. */
static void text(struct render *r, const char *s)
{
	while (*s && !r->full) {
		const char *start;

		if (strchr(" \t\n\r\f\v", *s)) {
			r->space = true;
			s++;
			continue;
		}
		start = s;
		while (*s && !strchr(" \t\n\r\f\v", *s))
			s++;
		flush(r);
		put(r, start, (size_t)(s - start));
	}
}

/* A markup token opening an inline run: owed space goes before it. */
static void open_mark(struct render *r, const char *mark)
{
	if (r->mode != HTML_MARKDOWN)
		return;
	flush(r);
	puts_raw(r, mark);
}

/* ...and closing it: written tight against the text, the owed space after. */
static void close_mark(struct render *r, const char *mark)
{
	if (r->mode == HTML_MARKDOWN && !r->full)
		puts_raw(r, mark);
}

/* ==== helpers over the tree ==== */

/* Whether the subtree has any non-space text that would be rendered. */
static bool has_text(const xmlNode *n, int depth)
{
	if (depth > HTML_MAX_DEPTH)
		return false;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			for (const char *p = (const char *)c->content; p && *p; p++)
				if (!strchr(" \t\n\r\f\v", *p))
					return true;
		} else if (c->type == XML_ELEMENT_NODE && !is_dropped(c)) {
			if (name_is(c, "img") && attr(c, "alt") && *attr(c, "alt"))
				return true;
			if (has_text(c, depth + 1))
				return true;
		}
	}
	return false;
}

/* Visible text length of a subtree, for choosing the main content. */
static size_t text_len(const xmlNode *n, int depth)
{
	size_t total = 0;

	if (depth > HTML_MAX_DEPTH)
		return 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE && c->content) {
			for (const char *p = (const char *)c->content; *p; p++)
				total += !strchr(" \t\n\r\f\v", *p);
		} else if (c->type == XML_ELEMENT_NODE && !is_dropped(c)) {
			total += text_len(c, depth + 1);
		}
	}
	return total;
}

/* Raw text of a subtree (for <pre>), appended to `b`. */
static void raw_text(const xmlNode *n, struct buf *b, int depth)
{
	if (depth > HTML_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			buf_puts(b, (const char *)c->content);
		else if (c->type == XML_ELEMENT_NODE && name_is(c, "br"))
			buf_putc(b, '\n');
		else if (c->type == XML_ELEMENT_NODE && !name_is(c, "script") &&
			 !name_is(c, "style"))
			raw_text(c, b, depth + 1);
	}
}

/* An absolute http(s)/mailto URL for `href`, percent-escaping what breaks markdown. NULL: none. */
static char *abs_url(const struct render *r, const char *href)
{
	xmlChar *u;
	struct buf b;
	const char *p;

	while (*href == ' ' || *href == '\t' || *href == '\n' || *href == '\r')
		href++;
	if (!*href || *href == '#')
		return NULL;
	u = xmlBuildURI((const xmlChar *)href, (const xmlChar *)(r->base ? r->base : ""));
	if (!u)
		return NULL;
	p = (const char *)u;
	if (strncasecmp(p, "http://", 7) && strncasecmp(p, "https://", 8) &&
	    strncasecmp(p, "mailto:", 7)) {
		xmlFree(u);
		return NULL;
	}
	buf_init(&b, 8192);
	for (; *p; p++) {
		int rc;

		if (*p == ' ' || *p == '(' || *p == ')' || *p == '<' || *p == '>' ||
		    (unsigned char)*p < 0x20)
			rc = buf_printf(&b, "%%%02X", (unsigned char)*p);
		else
			rc = buf_putc(&b, *p);
		if (rc < 0)
			break;
	}
	xmlFree(u);
	return buf_detach(&b, NULL);
}

/* ==== the walk ==== */

static void walk(struct render *r, const xmlNode *n, int depth);

static void children(struct render *r, const xmlNode *n, int depth)
{
	for (const xmlNode *c = n->children; c && !r->full; c = c->next)
		walk(r, c, depth + 1);
}

static void render_pre(struct render *r, const xmlNode *n)
{
	struct buf b;
	size_t len;

	buf_init(&b, r->out.max);
	raw_text(n, &b, 0);
	len = b.len;
	/* A newline right after <pre> is not content (HTML says so); nor is the last one. */
	while (len && (b.p[len - 1] == '\n' || b.p[len - 1] == '\r'))
		len--;
	if (len == 0 || r->cell) {
		if (len)
			text(r, b.p);
		buf_release(&b);
		return;
	}
	block(r, 2);
	flush(r);
	if (r->mode == HTML_MARKDOWN)
		puts_raw(r, "```\n");
	put(r, b.p + (b.p[0] == '\n'), len - (b.p[0] == '\n'));
	if (r->mode == HTML_MARKDOWN)
		puts_raw(r, "\n```");
	block(r, 2);
	buf_release(&b);
}

static void render_code(struct render *r, const xmlNode *n)
{
	struct buf b;
	char *s, *d;
	const char *fence;

	buf_init(&b, r->out.max);
	raw_text(n, &b, 0);
	/* Collapse inside inline code too: it sits in a line of prose. */
	for (s = d = b.p; *s; s++) {
		if (strchr(" \t\n\r\f\v", *s)) {
			if (d > b.p && d[-1] != ' ')
				*d++ = ' ';
		} else {
			*d++ = *s;
		}
	}
	while (d > b.p && d[-1] == ' ')
		d--;
	*d = '\0';
	if (*b.p) {
		fence = strchr(b.p, '`') ? "``" : "`";
		open_mark(r, fence);
		if (r->mode != HTML_MARKDOWN)
			flush(r);
		puts_raw(r, b.p);
		close_mark(r, fence);
	}
	buf_release(&b);
}

static void render_link(struct render *r, const xmlNode *n, int depth)
{
	const char *href = attr(n, "href");
	char *url = href && r->mode == HTML_MARKDOWN ? abs_url(r, href) : NULL;

	if (!url) {
		children(r, n, depth);
		return;
	}
	if (!has_text(n, depth)) {
		free(url);
		return;
	}
	open_mark(r, "[");
	children(r, n, depth);
	if (!r->full) {
		puts_raw(r, "](");
		puts_raw(r, url);
		puts_raw(r, ")");
	}
	free(url);
}

static void render_img(struct render *r, const xmlNode *n)
{
	const char *alt = attr(n, "alt"), *src = attr(n, "src");
	char *url;

	if (!alt || !*alt)
		return;
	if (r->mode != HTML_MARKDOWN || !src || !(url = abs_url(r, src))) {
		text(r, alt);
		return;
	}
	open_mark(r, "![");
	text(r, alt);
	r->space = false;
	puts_raw(r, "](");
	puts_raw(r, url);
	puts_raw(r, ")");
	free(url);
}

static void render_list(struct render *r, const xmlNode *n, int depth, bool ordered)
{
	long index = 1;
	const char *start = attr(n, "start");

	if (ordered && start)
		index = strtol(start, NULL, 10);
	block(r, r->list ? 1 : 2);
	r->list++;
	for (const xmlNode *c = n->children; c && !r->full; c = c->next) {
		char marker[64];
		int i;

		if (!name_is(c, "li")) {
			walk(r, c, depth + 1);
			continue;
		}
		if (is_dropped(c) || !has_text(c, depth + 1))
			continue;
		block(r, 1);
		flush(r);
		if (r->cell) {
			children(r, c, depth + 1);
			r->space = true;
			continue;
		}
		for (i = 1; i < r->list && i < 16; i++)
			puts_raw(r, "  ");
		if (ordered)
			snprintf(marker, sizeof(marker), "%ld. ", index++);
		else
			snprintf(marker, sizeof(marker), "- ");
		puts_raw(r, marker);
		r->no_nl = true;
		children(r, c, depth + 1);
		block(r, 1);
	}
	r->list--;
	block(r, r->list ? 1 : 2);
}

/* Rows of a table, found through thead/tbody/tfoot. */
static void table_rows(struct render *r, const xmlNode *n, int depth, int *row)
{
	for (const xmlNode *c = n->children; c && !r->full; c = c->next) {
		int cells = 0;

		if (c->type != XML_ELEMENT_NODE || is_dropped(c))
			continue;
		if (name_is(c, "thead") || name_is(c, "tbody") || name_is(c, "tfoot")) {
			if (depth < HTML_MAX_DEPTH)
				table_rows(r, c, depth + 1, row);
			continue;
		}
		if (!name_is(c, "tr"))
			continue;
		if (!has_text(c, depth + 1))
			continue;
		block(r, 1);
		flush(r);
		if (r->mode == HTML_MARKDOWN)
			puts_raw(r, "|");
		r->cell++;
		for (const xmlNode *d = c->children; d && !r->full; d = d->next) {
			if (!name_is(d, "td") && !name_is(d, "th"))
				continue;
			if (r->mode == HTML_MARKDOWN)
				puts_raw(r, " ");
			else if (cells)
				puts_raw(r, " | ");
			cells++;
			r->space = false;
			r->nl = 0;
			r->no_nl = true;
			children(r, d, depth + 2);
			r->no_nl = false;
			r->space = false;
			r->nl = 0;
			if (r->mode == HTML_MARKDOWN)
				puts_raw(r, " |");
		}
		r->cell--;
		if (r->mode == HTML_MARKDOWN && (*row)++ == 0) {
			puts_raw(r, "\n|");
			for (int i = 0; i < cells; i++)
				puts_raw(r, " --- |");
		}
		block(r, 1);
	}
}

static void walk(struct render *r, const xmlNode *n, int depth)
{
	const char *name;

	if (depth > HTML_MAX_DEPTH || r->full)
		return;
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			text(r, (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE) {
		if (n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE)
			children(r, n, depth);
		return;
	}
	if (is_dropped(n))
		return;
	name = (const char *)n->name;
	if (name[0] && (name[0] == 'h' || name[0] == 'H') && name[1] >= '1' && name[1] <= '6' &&
	    !name[2]) {
		if (!has_text(n, depth))
			return;
		block(r, 2);
		if (r->mode == HTML_MARKDOWN && !r->cell) {
			char hashes[8];
			int level = name[1] - '0';

			memset(hashes, '#', (size_t)level);
			hashes[level] = ' ';
			flush(r);
			put(r, hashes, (size_t)level + 1);
		}
		children(r, n, depth);
		block(r, 2);
	} else if (name_is(n, "br")) {
		if (r->cell)
			r->space = true;
		else
			r->nl = r->nl < 2 ? r->nl + 1 : 2;
	} else if (name_is(n, "hr")) {
		block(r, 2);
		if (r->mode == HTML_MARKDOWN && !r->cell) {
			flush(r);
			puts_raw(r, "---");
		}
		block(r, 2);
	} else if (name_is(n, "pre")) {
		render_pre(r, n);
	} else if (name_is(n, "code") || name_is(n, "kbd") || name_is(n, "samp") ||
		   name_is(n, "tt")) {
		render_code(r, n);
	} else if (name_is(n, "a")) {
		render_link(r, n, depth);
	} else if (name_is(n, "img")) {
		render_img(r, n);
	} else if (name_is(n, "ul") || name_is(n, "ol") || name_is(n, "dir")) {
		render_list(r, n, depth, name_is(n, "ol"));
	} else if (name_is(n, "table")) {
		int row = 0;

		block(r, 2);
		table_rows(r, n, depth, &row);
		block(r, 2);
	} else if (name_is(n, "strong") || name_is(n, "b")) {
		if (!has_text(n, depth))
			return;
		open_mark(r, "**");
		children(r, n, depth);
		close_mark(r, "**");
	} else if (name_is(n, "em") || name_is(n, "i")) {
		if (!has_text(n, depth))
			return;
		open_mark(r, "*");
		children(r, n, depth);
		close_mark(r, "*");
	} else if (name_is(n, "p") || name_is(n, "div") || name_is(n, "section") ||
		   name_is(n, "article") || name_is(n, "main") || name_is(n, "header") ||
		   name_is(n, "blockquote") || name_is(n, "figure") || name_is(n, "figcaption") ||
		   name_is(n, "address") || name_is(n, "details") || name_is(n, "summary") ||
		   name_is(n, "dl") || name_is(n, "center")) {
		block(r, 2);
		children(r, n, depth);
		block(r, 2);
	} else if (name_is(n, "dt") || name_is(n, "dd") || name_is(n, "li") || name_is(n, "tr") ||
		   name_is(n, "caption")) {
		block(r, 1);
		children(r, n, depth);
		block(r, 1);
	} else if (name_is(n, "td") || name_is(n, "th")) {
		r->space = true;
		children(r, n, depth);
		r->space = true;
	} else {
		children(r, n, depth); /* span, font, small, unknown tags: inline */
	}
}

/* ==== choosing what to render ==== */

static const xmlNode *find_first(const xmlNode *n, bool (*pred)(const xmlNode *), int depth)
{
	if (depth > HTML_MAX_DEPTH)
		return NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		const xmlNode *f;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (pred(c))
			return c;
		if (is_dropped(c) && !name_is(c, "head"))
			continue;
		if ((f = find_first(c, pred, depth + 1)))
			return f;
	}
	return NULL;
}

static void count_matching(const xmlNode *n, bool (*pred)(const xmlNode *), int depth,
			   size_t *count)
{
	if (depth > HTML_MAX_DEPTH)
		return;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || is_dropped(c))
			continue;
		if (pred(c))
			++*count;
		count_matching(c, pred, depth + 1, count);
	}
}

static bool is_main(const xmlNode *n)
{
	const char *role = attr(n, "role");

	return !is_dropped(n) && (name_is(n, "main") || (role && !strcasecmp(role, "main")));
}

static bool is_article(const xmlNode *n)
{
	return !is_dropped(n) && name_is(n, "article");
}

static bool is_body(const xmlNode *n)
{
	return name_is(n, "body");
}

static bool is_title(const xmlNode *n)
{
	return name_is(n, "title");
}

static bool is_h1(const xmlNode *n)
{
	return name_is(n, "h1");
}

static bool is_base(const xmlNode *n)
{
	return name_is(n, "base") && attr(n, "href");
}

static const xmlNode *main_content(const xmlNode *root)
{
	const xmlNode *m, *body = find_first(root, is_body, 0);
	size_t articles = 0;

	if ((m = find_first(root, is_main, 0)) && text_len(m, 0) > 0)
		return m;
	count_matching(root, is_article, 0, &articles);
	if (articles == 1 && (m = find_first(root, is_article, 0)) && text_len(m, 0) > 0)
		return m;
	return body ? body : root;
}

static char *collapse(const char *s, size_t max)
{
	struct buf b;
	bool space = false, cut = false;

	buf_init(&b, max);
	for (; s && *s; s++) {
		if (strchr(" \t\n\r\f\v", *s)) {
			space = b.len > 0;
			continue;
		}
		if ((space && buf_putc(&b, ' ') < 0) || buf_putc(&b, *s) < 0) {
			cut = true;
			break;
		}
		space = false;
	}
	/* Never end inside a UTF-8 sequence the cap cut. */
	if (cut) {
		while (b.len && ((unsigned char)b.p[b.len - 1] & 0xc0) == 0x80)
			b.len--;
		if (b.len && (unsigned char)b.p[b.len - 1] >= 0xc0)
			b.len--;
		b.p[b.len] = '\0';
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static char *node_title(const xmlNode *n)
{
	struct buf b;
	char *t;

	buf_init(&b, HTML_TITLE_MAX * 4);
	raw_text(n, &b, 0);
	t = collapse(b.p, HTML_TITLE_MAX);
	buf_release(&b);
	return t;
}

int html_extract(const char *html, size_t len, const char *base_url, const char *encoding,
		 enum html_mode mode, size_t max_out, struct html_result *out, char *err,
		 size_t errlen)
{
	struct render r = { .mode = mode };
	const xmlNode *root, *t, *content;
	xmlChar *base = NULL;
	htmlDocPtr doc;

	memset(out, 0, sizeof(*out));
	html_init();
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "document too large");
		return -1;
	}
	doc = htmlReadMemory(html, (int)len, base_url, encoding,
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				     HTML_PARSE_NONET | HTML_PARSE_COMPACT);
	if (!doc || !(root = xmlDocGetRootElement(doc))) {
		if (doc)
			xmlFreeDoc(doc);
		/* An empty document is empty, not an error. */
		out->text = xstrdup("");
		return 0;
	}
	/* <base href> moves the base for relative links. */
	if ((t = find_first((const xmlNode *)doc, is_base, 0)))
		base = xmlBuildURI((const xmlChar *)attr(t, "href"),
				   (const xmlChar *)(base_url ? base_url : ""));
	r.base = base ? (const char *)base : base_url;

	if ((t = find_first((const xmlNode *)doc, is_title, 0)))
		out->title = node_title(t);
	content = main_content((const xmlNode *)doc);
	if (!out->title && (t = find_first(content, is_h1, 0)))
		out->title = node_title(t);

	buf_init(&r.out, max_out ? max_out : BUF_UNLIMITED);
	if (content == (const xmlNode *)doc)
		children(&r, content, 0);
	else
		walk(&r, content, 0);
	/* Trailing layout owed to nothing is not paid. */
	while (r.out.len && strchr(" \n", r.out.p[r.out.len - 1]))
		r.out.len--;
	r.out.p[r.out.len] = '\0';
	out->truncated = r.full;
	out->text = buf_detach(&r.out, NULL);
	if (!out->text)
		out->text = xstrdup("");
	if (base)
		xmlFree(base);
	xmlFreeDoc(doc);
	(void)err;
	(void)errlen;
	return 0;
}

void html_result_release(struct html_result *r)
{
	free(r->title);
	free(r->text);
	r->title = r->text = NULL;
}

/* ==== markdown to text ==== */

char *html_markdown_to_text(const char *md)
{
	struct buf b;
	const char *p = md;
	bool line_start = true;

	buf_init(&b, BUF_UNLIMITED);
	while (*p) {
		if (line_start) {
			const char *q = p;

			while (*q == ' ')
				q++;
			if (!strncmp(q, "```", 3) || !strncmp(q, "~~~", 3)) {
				/* A fence line vanishes whole. */
				while (*q && *q != '\n')
					q++;
				p = *q ? q + 1 : q;
				continue;
			}
			if (*q == '#') {
				while (*q == '#')
					q++;
				if (*q == ' ')
					p = q + 1; /* "## Title" -> "Title" */
			}
			line_start = false;
			continue;
		}
		if ((*p == '!' && p[1] == '[') || *p == '[') {
			/* [text](url) and ![alt](url): the text stays. */
			const char *open = *p == '!' ? p + 1 : p;
			const char *close = strchr(open, ']');

			if (close && close[1] == '(' && strchr(close, ')') &&
			    !memchr(open, '\n', (size_t)(close - open))) {
				const char *end = strchr(close, ')');

				buf_append(&b, open + 1, (size_t)(close - open - 1));
				p = end + 1;
				continue;
			}
		}
		if ((*p == '*' && p[1] == '*') || (*p == '_' && p[1] == '_')) {
			p += 2;
			continue;
		}
		if (*p == '`') {
			p++;
			continue;
		}
		if (*p == '\n')
			line_start = true;
		buf_putc(&b, *p++);
	}
	return buf_detach(&b, NULL);
}
