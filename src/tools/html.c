/*
 * html.c - HTML to readable markdown or text with libxml2; see html.h.
 *
 * libxml2 is not linked: it is dlopen()ed on first use. On Debian it drags
 * in ICU and libstdc++, and linking it made every pincer process (each CLI
 * command, the idle gateway) pay their loading and relocation at start-up
 * and carry their pages, for a feature only web_fetch uses. libxml2's
 * headers still give the types; the few functions used are called through
 * a table resolved once. When the library cannot be loaded, a small tag
 * stripper keeps web_fetch useful (see "fallback" below).
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
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
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

/* ==== libxml2, loaded on first use ==== */

/*
 * The soname the headers we were built with belong to: linking used to
 * record it for us. 2.14 broke the ABI and bumped it; loading a library of
 * the other ABI would read its trees with the wrong struct layouts.
 */
#if LIBXML_VERSION >= 21400
#define HTML_LIBXML2 "libxml2.so.16"
#else
#define HTML_LIBXML2 "libxml2.so.2"
#endif

/*
 * The functions html.c calls, typed from libxml2's own declarations so a
 * mismatch is a compile error. `free_fn` points at the library's xmlFree
 * variable (the header's xmlFree is a macro over a per-thread accessor in
 * some builds, absent in others; the exported variable exists in all).
 */
static struct {
	__typeof__(xmlInitParser) *init_parser;
	__typeof__(htmlReadMemory) *read_memory;
	__typeof__(xmlDocGetRootElement) *doc_root;
	__typeof__(xmlFreeDoc) *free_doc;
	__typeof__(xmlBuildURI) *build_uri;
	xmlFreeFunc *free_fn;
	bool ok;
} lx;

static const char *lx_soname = HTML_LIBXML2;
static pthread_once_t html_once = PTHREAD_ONCE_INIT;

static void html_load(void)
{
	void *h = dlopen(lx_soname, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!h) {
		log_warn("html", "cannot load %s (%s): web_fetch reduces HTML to plain text",
			 lx_soname, dlerror());
		return;
	}
#define LX_SYM(field, name)                                                                        \
	do {                                                                                       \
		if (!(*(void **)&lx.field = dlsym(h, name)) && !missing)                           \
			missing = name;                                                            \
	} while (0)
	LX_SYM(init_parser, "xmlInitParser");
	LX_SYM(read_memory, "htmlReadMemory");
	LX_SYM(doc_root, "xmlDocGetRootElement");
	LX_SYM(free_doc, "xmlFreeDoc");
	LX_SYM(build_uri, "xmlBuildURI");
	LX_SYM(free_fn, "xmlFree");
#undef LX_SYM
	if (missing) {
		log_warn("html", "%s has no %s: web_fetch reduces HTML to plain text", lx_soname,
			 missing);
		dlclose(h);
		return;
	}
	/* The handle stays open for the life of the process: trees and URIs it made may live on. */
	lx.init_parser();
	lx.ok = true;
}

void html_init(void)
{
	pthread_once(&html_once, html_load);
}

bool html_have_libxml2(void)
{
	html_init();
	return lx.ok;
}

void html_set_library(const char *soname)
{
	lx_soname = soname;
}

static void lx_free(void *p)
{
	(*lx.free_fn)(p);
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
	u = lx.build_uri((const xmlChar *)href, (const xmlChar *)(r->base ? r->base : ""));
	if (!u)
		return NULL;
	p = (const char *)u;
	if (strncasecmp(p, "http://", 7) && strncasecmp(p, "https://", 8) &&
	    strncasecmp(p, "mailto:", 7)) {
		lx_free(u);
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
	lx_free(u);
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

/* Trailing layout owed to nothing is not paid; the text goes to `out`. */
static void finish(struct render *r, struct html_result *out)
{
	while (r->out.len && strchr(" \n", r->out.p[r->out.len - 1]))
		r->out.len--;
	r->out.p[r->out.len] = '\0';
	out->truncated = r->full;
	out->text = buf_detach(&r->out, NULL);
	if (!out->text)
		out->text = xstrdup("");
}

/* ==== fallback: a tag stripper, for when libxml2 cannot be loaded ==== */

/*
 * Plain text in both modes: without a tree there is no sound way to choose
 * the main content or to nest markdown, and a reader is better served by
 * all the prose than by a guess. It keeps what the renderer above keeps at
 * the level of single tags: text outside tags, the contents of the dropped
 * elements skipped, block elements as line breaks, the common entities
 * decoded, <title>. The input is taken as UTF-8 whatever its charset (the
 * caller cleans invalid sequences). Every scan is bounded by `end`: the
 * input need not be NUL-terminated.
 */

/* Elements whose end tag is the only thing that ends them (HTML's raw text). */
static const char *const raw_elements[] = { "script", "style", "textarea", "title", "xmp" };

static bool tag_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(name, want, n);
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == ':' || c == '_';
}

/* Past the '>' closing a tag whose name ends at `p` (quoted '>' skipped), or `end`. */
static const char *tag_end(const char *p, const char *end)
{
	char quote = 0;

	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '>') {
			return p + 1;
		}
	}
	return end;
}

/* At "<name" or "</name" (closing: the latter) with `name` whole? */
static bool at_tag(const char *p, const char *end, const char *name, size_t n, bool closing)
{
	size_t off = closing ? 2 : 1;

	if ((size_t)(end - p) < off + n || p[0] != '<' || (closing && p[1] != '/'))
		return false;
	if (strncasecmp(p + off, name, n))
		return false;
	return p + off + n == end || !name_char(p[off + n]);
}

/*
 * Past the end tag matching an element opened just before `p`, with
 * `content_end` at that end tag; NULL when there is none. Raw elements end
 * at the first "</name", others count nested "<name".
 */
static const char *skip_element(const char *p, const char *end, const char *name, size_t n,
				bool raw, const char **content_end)
{
	int depth = 1;

	for (; p < end; p++) {
		if (*p != '<')
			continue;
		if (at_tag(p, end, name, n, true) && --depth == 0) {
			*content_end = p;
			return tag_end(p + 2 + n, end);
		}
		if (!raw && at_tag(p, end, name, n, false))
			depth++;
	}
	return NULL;
}

static int tag_index(const char *name, size_t n, const char *const *set, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (tag_is(name, n, set[i]))
			return (int)i;
	return -1;
}

static void put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

static const struct {
	const char *name;
	unsigned long cp;
} entities[] = {
	{ "amp", '&' },      { "lt", '<' },       { "gt", '>' },        { "quot", '"' },
	{ "apos", '\'' },    { "nbsp", 0xa0 },    { "copy", 0xa9 },     { "reg", 0xae },
	{ "mdash", 0x2014 }, { "ndash", 0x2013 }, { "hellip", 0x2026 }, { "rsquo", 0x2019 },
	{ "lsquo", 0x2018 }, { "rdquo", 0x201d }, { "ldquo", 0x201c },  { "middot", 0xb7 },
};

/* `n` bytes of text with character references decoded, NULs dropped, into `b` (reset). */
static void decode_text(struct buf *b, const char *p, size_t n)
{
	const char *end = p + n;

	buf_reset(b);
	while (p < end) {
		const char *semi;
		size_t i, len;

		if (*p != '&' || !(semi = memchr(p, ';', (size_t)(end - p))) || semi - p > 10) {
			if (*p)
				buf_putc(b, *p);
			p++;
			continue;
		}
		len = (size_t)(semi - p - 1);
		if (len >= 2 && p[1] == '#') {
			bool hex = p[2] == 'x' || p[2] == 'X';
			const char *d = p + 2 + hex;
			unsigned long cp = 0;
			bool ok = d < semi;

			for (; d < semi && ok; d++) {
				int v = *d >= '0' && *d <= '9'          ? *d - '0'
					: hex && *d >= 'a' && *d <= 'f' ? *d - 'a' + 10
					: hex && *d >= 'A' && *d <= 'F' ? *d - 'A' + 10
									: -1;
				ok = v >= 0;
				cp = cp * (hex ? 16 : 10) + (unsigned long)(v < 0 ? 0 : v);
			}
			if (ok) {
				put_utf8(b, cp);
				p = semi + 1;
				continue;
			}
		} else {
			for (i = 0; i < sizeof(entities) / sizeof(entities[0]); i++)
				if (tag_is(p + 1, len, entities[i].name))
					break;
			if (i < sizeof(entities) / sizeof(entities[0])) {
				put_utf8(b, entities[i].cp);
				p = semi + 1;
				continue;
			}
		}
		buf_putc(b, *p++); /* not a reference we know: literal */
	}
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(COUNT(dropped) <= 32, "no_end below is a 32-bit set");

static void plain_extract(const char *html, size_t len, struct render *r, struct html_result *out)
{
	static const char *const para[] = {
		"p",       "div",     "section", "article", "main",       "header", "h1",
		"h2",      "h3",      "h4",      "h5",      "h6",         "ul",     "ol",
		"table",   "pre",     "hr",      "dl",      "blockquote", "figure", "figcaption",
		"address", "details", "summary", "center"
	};
	static const char *const line[] = { "br", "li", "tr", "dt", "dd", "caption" };
	/*
	 * Which elements had no end tag at their first try: later ones are
	 * taken as lone tags without searching again, so that a page of
	 * unclosed <nav>s costs one scan per name, not one per tag.
	 */
	unsigned long no_end = 0;
	const char *p = html, *end = html + len;
	struct buf t;

	buf_init(&t, BUF_UNLIMITED);
	while (p < end && !r->full) {
		const char *q = p, *name, *next, *content_end;
		size_t n;
		bool closing;
		int i;

		if (*p != '<') {
			while (q < end && *q != '<')
				q++;
			decode_text(&t, p, (size_t)(q - p));
			text(r, t.p);
			p = q;
			continue;
		}
		if ((size_t)(end - p) >= 4 && !memcmp(p, "<!--", 4)) {
			const char *c = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);

			p = c ? c + 3 : end;
			continue;
		}
		if (p + 1 < end && (p[1] == '!' || p[1] == '?')) {
			p = tag_end(p + 2, end);
			continue;
		}
		closing = p + 1 < end && p[1] == '/';
		name = p + 1 + closing;
		for (q = name; q < end && name_char(*q); q++)
			;
		n = (size_t)(q - name);
		if (n == 0 || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z'))) {
			text(r, "<"); /* "a < b": prose, not a tag */
			p++;
			continue;
		}
		p = tag_end(q, end);
		if (closing)
			i = -1;
		else if ((i = tag_index(name, n, raw_elements, COUNT(raw_elements))) >= 0) {
			/* Unclosed, it runs to the end, as in a browser. */
			if (!(next = skip_element(p, end, name, n, true, &content_end)))
				break;
			if (!strcmp(raw_elements[i], "title") && !out->title) {
				decode_text(&t, p, (size_t)(content_end - p));
				out->title = collapse(t.p, HTML_TITLE_MAX);
			}
			p = next;
			continue;
		} else if ((i = tag_index(name, n, dropped, COUNT(dropped))) >= 0 &&
			   !tag_is(name, n, "head") && !tag_is(name, n, "input") &&
			   !tag_is(name, n, "embed") && p[-1] == '>' && p[-2] != '/') {
			/* (head holds the title; input and embed are void: no end tag) */
			if (!(no_end & (1ul << i)) &&
			    (next = skip_element(p, end, name, n, false, &content_end))) {
				p = next;
				continue;
			}
			no_end |= 1ul << i;
		}
		if (tag_index(name, n, para, COUNT(para)) >= 0)
			block(r, 2);
		else if (tag_index(name, n, line, COUNT(line)) >= 0)
			block(r, 1);
		else if (tag_is(name, n, "td") || tag_is(name, n, "th"))
			r->space = true;
	}
	buf_release(&t);
}

/* ==== extraction ==== */

int html_extract(const char *html, size_t len, const char *base_url, const char *encoding,
		 enum html_mode mode, size_t max_out, struct html_result *out, char *err,
		 size_t errlen)
{
	struct render r = { .mode = mode };
	const xmlNode *t, *content;
	xmlChar *base = NULL;
	htmlDocPtr doc;

	memset(out, 0, sizeof(*out));
	buf_init(&r.out, max_out ? max_out : BUF_UNLIMITED);
	if (!html_have_libxml2()) {
		plain_extract(html, len, &r, out);
		finish(&r, out);
		return 0;
	}
	if (len > (size_t)INT32_MAX) {
		buf_release(&r.out);
		snprintf(err, errlen, "document too large");
		return -1;
	}
	doc = lx.read_memory(html, (int)len, base_url, encoding,
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				     HTML_PARSE_NONET | HTML_PARSE_COMPACT);
	if (!doc || !lx.doc_root(doc)) {
		if (doc)
			lx.free_doc(doc);
		/* An empty document is empty, not an error. */
		finish(&r, out);
		return 0;
	}
	/* <base href> moves the base for relative links. */
	if ((t = find_first((const xmlNode *)doc, is_base, 0)))
		base = lx.build_uri((const xmlChar *)attr(t, "href"),
				    (const xmlChar *)(base_url ? base_url : ""));
	r.base = base ? (const char *)base : base_url;

	if ((t = find_first((const xmlNode *)doc, is_title, 0)))
		out->title = node_title(t);
	content = main_content((const xmlNode *)doc);
	if (!out->title && (t = find_first(content, is_h1, 0)))
		out->title = node_title(t);

	if (content == (const xmlNode *)doc)
		children(&r, content, 0);
	else
		walk(&r, content, 0);
	finish(&r, out);
	if (base)
		lx_free(base);
	lx.free_doc(doc);
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
