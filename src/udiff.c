/*
 * udiff.c -- a unified diff of two texts, as GNU `diff -u` prints it.
 *
 * Owns: splitting two texts into lines, a shortest edit script between
 * them and its rendering as "diff -u" hunks.  No I/O, no globals.
 *
 * How: the bytes both texts start and end with are cut back to whole
 * lines, so only a window around the differences (plus UDIFF_CONTEXT
 * lines each side) is ever split into lines.  The lines of both windows
 * are sorted into classes of equal content (a merge sort: no input makes
 * it quadratic); a line whose content is not on the other side is a
 * change and drops out; Myers' O(ND) middle-snake search (linear space,
 * divide and conquer) aligns what is left.
 *
 * MUST: content lines and the labels reach the output only through
 *   msg_escape_view() (a backslash stays one); everything else in it is our own text.
 * MUST: a line is its bytes up to and including '\n'; NUL and invalid
 *   UTF-8 are ordinary bytes; a last line without '\n' differs from the
 *   same line with one and is followed by "\ No newline at end of file".
 * MUST: hunks as GNU diff -u: UDIFF_CONTEXT lines of context, changes at
 *   most 2 * UDIFF_CONTEXT lines apart share a hunk, a range of one line
 *   is "l", of none "l-1,0".  Equal texts give "".
 * MUST: the edit script is minimal (as many lines - and + as GNU diff
 *   prints) unless the search passes a cost of COST_MIN (or about
 *   sqrt(N + M) if more), where it settles for a good split as GNU diff
 *   does; the script is always a correct one.
 * Cost: O(alen + blen) to find the window, then O(W log W) to sort and
 *   O(W D) to search, for W lines in the window and D lines changed;
 *   memory O(W), never O(D^2).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "udiff.h"

#define COST_MIN	4096	/* search cost before settling */
#define NONL_MARK	"\\ No newline at end of file\n"
#define BLOCK		4096	/* memcmp step over equal bytes */

/* A text's window: the lines around its differences. */
struct win {
	const char	*buf;	/* first byte */
	size_t		 len;
	size_t		*off;	/* line i: buf[off[i]..off[i+1]) */
	size_t		 n;	/* lines */
	size_t		 first;	/* line 0's number, from 0 */
	char		*chg;	/* deleted (a), inserted (b) */
};

/* The sequences the search aligns: lines with a match on the other side. */
struct seq {
	const ptrdiff_t	*xv, *yv;	/* class of each line */
	const size_t	*xmap, *ymap;	/* its line in the window */
	char		*xchg, *ychg;	/* the windows' flags */
	ptrdiff_t	*fd, *bd;	/* furthest x per diagonal */
	ptrdiff_t	 limit;		/* cost where a split will do */
};

/* One middle-snake search over xv[xoff..xlim) and yv[yoff..ylim). */
struct search {
	ptrdiff_t	xoff, xlim, yoff, ylim;
	ptrdiff_t	dmin, dmax;	/* diagonals inside the box */
	ptrdiff_t	fmin, fmax;	/* diagonals searched forward */
	ptrdiff_t	bmin, bmax;	/* and backward */
	int		odd;		/* the box's delta is odd */
};

struct obuf {
	char	*p;
	size_t	 len, cap;
};

/* Bytes a and b (n bytes each) start with. */
static size_t
common_prefix(const char *a, const char *b, size_t n)
{
	size_t	i = 0;

	while (n - i >= BLOCK && memcmp(a + i, b + i, BLOCK) == 0)
		i += BLOCK;
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Bytes a and b end with, at most n. */
static size_t
common_suffix(const char *a, size_t alen, const char *b, size_t blen,
    size_t n)
{
	size_t	i = 0;

	while (n - i >= BLOCK && memcmp(a + alen - i - BLOCK,
	    b + blen - i - BLOCK, BLOCK) == 0)
		i += BLOCK;
	while (i < n && a[alen - i - 1] == b[blen - i - 1])
		i++;
	return i;
}

/* The start of the line holding byte pos, moved back over k more lines. */
static size_t
line_back(const char *s, size_t pos, size_t k)
{
	const char	*nl;

	for (;;) {
		nl = pos > 0 ? memrchr(s, '\n', pos) : NULL;
		pos = nl != NULL ? (size_t)(nl - s) + 1 : 0;
		if (k-- == 0 || pos == 0)
			return pos;
		pos--;		/* onto the '\n' ending the line before */
	}
}

/* From the line start pos, the start of the line k lines on (or len). */
static size_t
line_fwd(const char *s, size_t len, size_t pos, size_t k)
{
	const char	*nl;

	for (; k > 0 && pos < len; k--) {
		nl = memchr(s + pos, '\n', len - pos);
		pos = nl != NULL ? (size_t)(nl - s) + 1 : len;
	}
	return pos;
}

static size_t
count_nl(const char *s, size_t len)
{
	const char	*nl;
	size_t		 pos = 0, n = 0;

	while (pos < len && (nl = memchr(s + pos, '\n', len - pos)) != NULL) {
		pos = (size_t)(nl - s) + 1;
		n++;
	}
	return n;
}

static int
line_start(const char *s, size_t pos)
{
	return pos == 0 || s[pos - 1] == '\n';
}

/*
 * Cut the lines a and b start and end with, keeping UDIFF_CONTEXT of each
 * for the hunks, and point wa and wb at what is left.  The texts differ.
 */
static void
find_windows(const char *a, size_t alen, const char *b, size_t blen,
    struct win *wa, struct win *wb)
{
	size_t	min = alen < blen ? alen : blen, p, s, as, bs, q, lo, ahi;

	p = line_back(a, common_prefix(a, b, min), 0);
	/* the suffix must not reach into the prefix on either side */
	s = common_suffix(a, alen, b, blen, min - p);
	as = alen - s;
	bs = blen - s;
	/* a line start in both; past as, the bytes before are equal too */
	q = as;
	if (!line_start(a, as) || !line_start(b, bs))
		q = line_fwd(a, alen, as, 1);
	lo = line_back(a, p, UDIFF_CONTEXT);
	ahi = line_fwd(a, alen, q, UDIFF_CONTEXT);
	wa->buf = a + lo;
	wa->len = ahi - lo;
	wb->buf = b + lo;
	wb->len = bs + (ahi - as) - lo;
	wa->first = wb->first = count_nl(a, lo);
}

static int
split_lines(struct win *w)
{
	const char	*nl;
	size_t		 n, i, pos;

	n = count_nl(w->buf, w->len);
	if (w->len > 0 && w->buf[w->len - 1] != '\n')
		n++;
	if ((w->off = calloc(n + 1, sizeof(*w->off))) == NULL ||
	    (w->chg = calloc(n + 1, 1)) == NULL)
		return KE_NOMEM;
	for (i = 0, pos = 0; i < n; i++) {
		w->off[i] = pos;
		nl = memchr(w->buf + pos, '\n', w->len - pos);
		pos = nl != NULL ? (size_t)(nl - w->buf) + 1 : w->len;
	}
	w->off[n] = w->len;
	w->n = n;
	return 0;
}

/* A line of both windows together (a's lines, then b's) and its hash. */
struct key {
	uint64_t	h;
	size_t		t;
};

static void
line_at(const struct win *wa, const struct win *wb, size_t t,
    const char **p, size_t *len)
{
	const struct win	*w = wa;

	if (t >= wa->n) {
		w = wb;
		t -= wa->n;
	}
	*p = w->buf + w->off[t];
	*len = w->off[t + 1] - w->off[t];
}

/* FNV-1a: only to make most comparisons cheap, never trusted alone. */
static uint64_t
line_hash(const char *p, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Order by hash, then length, then bytes. */
static int
key_cmp(const struct win *wa, const struct win *wb, const struct key *s,
    const struct key *t)
{
	const char	*ps, *pt;
	size_t		 ls, lt;

	if (s->h != t->h)
		return s->h < t->h ? -1 : 1;
	line_at(wa, wb, s->t, &ps, &ls);
	line_at(wa, wb, t->t, &pt, &lt);
	if (ls != lt)
		return ls < lt ? -1 : 1;
	return memcmp(ps, pt, ls);
}

static void
merge(const struct win *wa, const struct win *wb, const struct key *src,
    struct key *dst, size_t lo, size_t mid, size_t hi)
{
	size_t	i = lo, j = mid, k = lo;

	while (i < mid && j < hi)
		dst[k++] = key_cmp(wa, wb, &src[j], &src[i]) < 0 ?
		    src[j++] : src[i++];
	while (i < mid)
		dst[k++] = src[i++];
	while (j < hi)
		dst[k++] = src[j++];
}

/*
 * Merge sort (O(n log n) whatever the input, unlike a hash table or a
 * quicksort an attacker could feed) of the n keys in k; returns k or tmp.
 */
static struct key *
sort_keys(const struct win *wa, const struct win *wb, struct key *k,
    struct key *tmp, size_t n)
{
	struct key	*src = k, *dst = tmp, *t;
	size_t		 w, lo, mid, hi;

	/* w < n, and n keys were allocated: w * 2 cannot overflow */
	for (w = 1; w < n; w *= 2) {
		for (lo = 0; lo < n; lo = hi) {
			mid = n - lo > w ? lo + w : n;
			hi = n - mid > w ? mid + w : n;
			merge(wa, wb, src, dst, lo, mid, hi);
		}
		t = src;
		src = dst;
		dst = t;
	}
	return src;
}

/*
 * Number the lines of both windows (a's, then b's) by content into cls;
 * a line whose content is not on the other side gets -1.
 */
static int
classify(const struct win *wa, const struct win *wb, ptrdiff_t *cls)
{
	struct key	*k, *tmp, *s;
	const char	*p;
	size_t		 n = wa->n + wb->n, i, j, len, ina, inb;
	ptrdiff_t	 id = 0;

	k = calloc(n + 1, sizeof(*k));
	tmp = calloc(n + 1, sizeof(*tmp));
	if (k == NULL || tmp == NULL) {
		free(k);
		free(tmp);
		return KE_NOMEM;
	}
	for (i = 0; i < n; i++) {
		line_at(wa, wb, i, &p, &len);
		k[i].h = line_hash(p, len);
		k[i].t = i;
	}
	s = sort_keys(wa, wb, k, tmp, n);
	for (i = 0; i < n; i = j, id++) {
		ina = inb = 0;
		for (j = i; j < n && (j == i ||
		    key_cmp(wa, wb, &s[i], &s[j]) == 0); j++) {
			if (s[j].t < wa->n)
				ina++;
			else
				inb++;
		}
		for (; i < j; i++)
			cls[s[i].t] = ina > 0 && inb > 0 ? id : -1;
	}
	free(k);
	free(tmp);
	return 0;
}

/* One forward step of the search; 1 when it meets the backward one. */
static int
step_fwd(const struct seq *s, struct search *st, ptrdiff_t *mx,
    ptrdiff_t *my)
{
	ptrdiff_t	*fd = s->fd, d, x, y;

	if (st->fmin > st->dmin)
		fd[--st->fmin - 1] = -1;
	else
		st->fmin++;
	if (st->fmax < st->dmax)
		fd[++st->fmax + 1] = -1;
	else
		st->fmax--;
	for (d = st->fmax; d >= st->fmin; d -= 2) {
		x = fd[d - 1] >= fd[d + 1] ? fd[d - 1] + 1 : fd[d + 1];
		y = x - d;
		while (x < st->xlim && y < st->ylim && s->xv[x] == s->yv[y]) {
			x++;
			y++;
		}
		fd[d] = x;
		/* points off the grid are dead ends, never a meeting */
		if (st->odd && d >= st->bmin && d <= st->bmax &&
		    s->bd[d] <= x && x <= st->xlim && y <= st->ylim) {
			*mx = x;
			*my = y;
			return 1;
		}
	}
	return 0;
}

/* One backward step of the search; 1 when it meets the forward one. */
static int
step_bwd(const struct seq *s, struct search *st, ptrdiff_t *mx,
    ptrdiff_t *my)
{
	ptrdiff_t	*bd = s->bd, d, x, y;

	if (st->bmin > st->dmin)
		bd[--st->bmin - 1] = PTRDIFF_MAX;
	else
		st->bmin++;
	if (st->bmax < st->dmax)
		bd[++st->bmax + 1] = PTRDIFF_MAX;
	else
		st->bmax--;
	for (d = st->bmax; d >= st->bmin; d -= 2) {
		x = bd[d - 1] < bd[d + 1] ? bd[d - 1] : bd[d + 1] - 1;
		y = x - d;
		while (x > st->xoff && y > st->yoff &&
		    s->xv[x - 1] == s->yv[y - 1]) {
			x--;
			y--;
		}
		bd[d] = x;
		if (!st->odd && d >= st->fmin && d <= st->fmax &&
		    x <= s->fd[d] && x >= st->xoff && y >= st->yoff) {
			*mx = x;
			*my = y;
			return 1;
		}
	}
	return 0;
}

/* Too costly: the forward point on the grid furthest from the start. */
static int
best_fwd(const struct seq *s, const struct search *st, ptrdiff_t *mx,
    ptrdiff_t *my)
{
	ptrdiff_t	d, x, y, best = -1;

	for (d = st->fmax; d >= st->fmin; d -= 2) {
		x = s->fd[d];
		y = x - d;
		if (x <= st->xlim && y <= st->ylim && y >= st->yoff &&
		    x + y > best) {
			best = x + y;
			*mx = x;
			*my = y;
		}
	}
	return best >= 0;
}

/*
 * A point (*mx, *my) where an optimal path through the box crosses from
 * its first half to its second (or, past s->limit, a good point).  The
 * box is not empty on either side.  1, or 0 when none was found.
 */
static int
midsnake(const struct seq *s, ptrdiff_t xoff, ptrdiff_t xlim,
    ptrdiff_t yoff, ptrdiff_t ylim, ptrdiff_t *mx, ptrdiff_t *my)
{
	struct search	st;
	ptrdiff_t	c;

	st.xoff = xoff;
	st.xlim = xlim;
	st.yoff = yoff;
	st.ylim = ylim;
	st.dmin = xoff - ylim;
	st.dmax = xlim - yoff;
	st.fmin = st.fmax = xoff - yoff;
	st.bmin = st.bmax = xlim - ylim;
	st.odd = ((st.fmin - st.bmin) & 1) != 0;
	s->fd[st.fmin] = xoff;
	s->bd[st.bmin] = xlim;
	for (c = 1;; c++) {
		if (step_fwd(s, &st, mx, my) || step_bwd(s, &st, mx, my))
			return 1;
		if (c >= s->limit)
			return best_fwd(s, &st, mx, my);
	}
}

static void
mark(const size_t *map, char *chg, ptrdiff_t lo, ptrdiff_t hi)
{
	for (; lo < hi; lo++)
		chg[map[lo]] = 1;
}

/* Mark the changes between xv[xoff..xlim) and yv[yoff..ylim). */
static void
compare(const struct seq *s, ptrdiff_t xoff, ptrdiff_t xlim,
    ptrdiff_t yoff, ptrdiff_t ylim)
{
	ptrdiff_t	mx, my;

	for (;;) {
		while (xoff < xlim && yoff < ylim &&
		    s->xv[xoff] == s->yv[yoff]) {
			xoff++;
			yoff++;
		}
		while (xoff < xlim && yoff < ylim &&
		    s->xv[xlim - 1] == s->yv[ylim - 1]) {
			xlim--;
			ylim--;
		}
		if (xoff == xlim || yoff == ylim)
			break;
		/* XXX a split at a corner would not shrink the box; never
		 * seen, but then all of it is a change (still correct) */
		if (!midsnake(s, xoff, xlim, yoff, ylim, &mx, &my) ||
		    (mx == xoff && my == yoff) || (mx == xlim && my == ylim))
			break;
		compare(s, xoff, mx, yoff, my);
		xoff = mx;
		yoff = my;
	}
	mark(s->xmap, s->xchg, xoff, xlim);
	mark(s->ymap, s->ychg, yoff, ylim);
}

/* Cost after which the search settles: about 2 sqrt(n), >= COST_MIN. */
static ptrdiff_t
cost_limit(size_t n)
{
	ptrdiff_t	lim = 1;

	for (; n != 0; n >>= 2)
		lim <<= 1;
	return lim < COST_MIN ? COST_MIN : lim;
}

/*
 * Keep the lines of w with a class (cls[i] >= 0) as v[0..*nv), their
 * numbers in map; flag the others changed.  v may be cls itself.
 */
static void
keep_matched(const struct win *w, const ptrdiff_t *cls, ptrdiff_t *v,
    size_t *map, size_t *nv)
{
	size_t	i, n = 0;

	for (i = 0; i < w->n; i++) {
		if (cls[i] < 0) {
			w->chg[i] = 1;
			continue;
		}
		v[n] = cls[i];
		map[n++] = i;
	}
	*nv = n;
}

static int
same_line(const struct win *wa, size_t i, const struct win *wb, size_t j)
{
	size_t	len = wa->off[i + 1] - wa->off[i];

	return len == wb->off[j + 1] - wb->off[j] &&
	    memcmp(wa->buf + wa->off[i], wb->buf + wb->off[j], len) == 0;
}

/*
 * Point ia and ib at the lines of wa and wb between their common first
 * and last lines.  Those stay unflagged: a window ends in context lines
 * that must stay matched, whatever the search would pair them with.
 */
static void
inner(const struct win *wa, const struct win *wb, struct win *ia,
    struct win *ib)
{
	size_t	pre = 0, post = 0;

	while (pre < wa->n && pre < wb->n && same_line(wa, pre, wb, pre))
		pre++;
	while (post < wa->n - pre && post < wb->n - pre &&
	    same_line(wa, wa->n - 1 - post, wb, wb->n - 1 - post))
		post++;
	*ia = *wa;
	ia->off += pre;
	ia->chg += pre;
	ia->n -= pre + post;
	*ib = *wb;
	ib->off += pre;
	ib->chg += pre;
	ib->n -= pre + post;
}

/* Flag the lines of wa deleted and of wb inserted by a shortest script. */
static int
align(const struct win *wa, const struct win *wb)
{
	struct seq	 s;
	ptrdiff_t	*cls, *diag = NULL;
	size_t		*map, n = wa->n + wb->n, nx, ny;
	int		 r = KE_NOMEM;

	cls = calloc(n + 1, sizeof(*cls));
	map = calloc(n + 1, sizeof(*map));
	if (cls == NULL || map == NULL || (r = classify(wa, wb, cls)) != 0)
		goto out;
	/* compacting in place: a kept line never moves up */
	keep_matched(wa, cls, cls, map, &nx);
	keep_matched(wb, cls + wa->n, cls + nx, map + nx, &ny);
	/* diagonals -ny - 1 .. nx + 1, for each direction */
	r = KE_NOMEM;
	if ((diag = calloc(nx + ny + 3, 2 * sizeof(*diag))) == NULL)
		goto out;
	s.xv = cls;
	s.yv = cls + nx;
	s.xmap = map;
	s.ymap = map + nx;
	s.xchg = wa->chg;
	s.ychg = wb->chg;
	s.fd = diag + ny + 1;
	s.bd = diag + (nx + ny + 3) + ny + 1;
	s.limit = cost_limit(nx + ny);
	compare(&s, 0, (ptrdiff_t)nx, 0, (ptrdiff_t)ny);
	r = 0;
 out:
	free(diag);
	free(map);
	free(cls);
	return r;
}

static int
run_diff(const struct win *wa, const struct win *wb)
{
	struct win	ia, ib;

	inner(wa, wb, &ia, &ib);
	return align(&ia, &ib);
}

/* Room for more bytes and a NUL at the end. */
static int
ob_reserve(struct obuf *o, size_t more)
{
	size_t	 need, cap;
	char	*p;

	if (more > SIZE_MAX - 1 - o->len)
		return KE_NOMEM;
	need = o->len + more + 1;
	if (need <= o->cap)
		return 0;
	cap = o->cap > 0 ? o->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(o->p, cap)) == NULL)
		return KE_NOMEM;
	o->p = p;
	o->cap = cap;
	return 0;
}

static int
ob_add(struct obuf *o, const char *s, size_t n)
{
	int	r;

	if ((r = ob_reserve(o, n)) != 0)
		return r;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	return 0;
}

/* n bytes of untrusted text, escaped. */
static int
ob_esc(struct obuf *o, const char *s, size_t n)
{
	size_t	room;
	int	r;

	/* msg_escape_view writes at most 4 bytes ("\xNN") a byte, and a NUL */
	if (n > (SIZE_MAX - 1) / 4)
		return KE_NOMEM;
	room = 4 * n + 1;
	if ((r = ob_reserve(o, room)) != 0)
		return r;
	msg_escape_view(s, n, o->p + o->len, room);
	o->len += strlen(o->p + o->len);
	return 0;
}

static int
ob_label(struct obuf *o, const char *tag, const char *label)
{
	int	r;

	if ((r = ob_add(o, tag, strlen(tag))) != 0 ||
	    (r = ob_esc(o, label, strlen(label))) != 0)
		return r;
	return ob_add(o, "\n", 1);
}

/* Line i of w, after a one-byte tag (' ', '-', '+'). */
static int
emit_line(struct obuf *o, char tag, const struct win *w, size_t i)
{
	const char	*p = w->buf + w->off[i];
	size_t		 len = w->off[i + 1] - w->off[i];
	int		 nl, r;

	nl = len > 0 && p[len - 1] == '\n';
	if (nl)
		len--;
	if ((r = ob_add(o, &tag, 1)) != 0 || (r = ob_esc(o, p, len)) != 0 ||
	    (r = ob_add(o, "\n", 1)) != 0)
		return r;
	return nl ? 0 : ob_add(o, NONL_MARK, sizeof(NONL_MARK) - 1);
}

/* "l,s" as GNU prints it: "l" for one line, "l-1,0" for none. */
static void
fmt_range(char *buf, size_t size, size_t start, size_t count)
{
	if (count == 0)
		(void)snprintf(buf, size, "%zu,0", start);
	else if (count == 1)
		(void)snprintf(buf, size, "%zu", start + 1);
	else
		(void)snprintf(buf, size, "%zu,%zu", start + 1, count);
}

static int
emit_header(struct obuf *o, const struct win *wa, size_t as, size_t ae,
    size_t bs, size_t be)
{
	char	ra[48], rb[48], line[112];
	int	n;

	fmt_range(ra, sizeof(ra), wa->first + as, ae - as);
	fmt_range(rb, sizeof(rb), wa->first + bs, be - bs);
	n = snprintf(line, sizeof(line), "@@ -%s +%s @@\n", ra, rb);
	if (n < 0 || (size_t)n >= sizeof(line))
		return KE_INTERNAL;
	return ob_add(o, line, (size_t)n);
}

static size_t
min3(size_t a, size_t b, size_t c)
{
	if (b < a)
		a = b;
	return c < a ? c : a;
}

/* The hunk of the changes from (i0, j0) to (i1, j1), with context. */
static int
emit_hunk(struct obuf *o, const struct win *wa, const struct win *wb,
    size_t i0, size_t j0, size_t i1, size_t j1)
{
	size_t	pre, post, i, j, ae, be;
	int	r;

	pre = min3(i0, j0, UDIFF_CONTEXT);
	post = min3(wa->n - i1, wb->n - j1, UDIFF_CONTEXT);
	i = i0 - pre;
	j = j0 - pre;
	ae = i1 + post;
	be = j1 + post;
	if ((r = emit_header(o, wa, i, ae, j, be)) != 0)
		return r;
	while (i < ae || j < be) {
		if ((i < ae && wa->chg[i]) || (j < be && wb->chg[j])) {
			for (; i < ae && wa->chg[i]; i++)
				if ((r = emit_line(o, '-', wa, i)) != 0)
					return r;
			for (; j < be && wb->chg[j]; j++)
				if ((r = emit_line(o, '+', wb, j)) != 0)
					return r;
			continue;
		}
		if ((r = emit_line(o, ' ', wa, i++)) != 0)
			return r;
		j++;
	}
	return 0;
}

/* Skip equal lines to the next change; 0 when there is none. */
static int
next_change(const struct win *wa, const struct win *wb, size_t *i,
    size_t *j)
{
	while (*i < wa->n && *j < wb->n && !wa->chg[*i] && !wb->chg[*j]) {
		(*i)++;
		(*j)++;
	}
	return *i < wa->n || *j < wb->n;
}

static void
skip_change(const struct win *wa, const struct win *wb, size_t *i,
    size_t *j)
{
	while (*i < wa->n && wa->chg[*i])
		(*i)++;
	while (*j < wb->n && wb->chg[*j])
		(*j)++;
}

/* From a change at (*i, *j), the end of the last change of its hunk. */
static void
hunk_end(const struct win *wa, const struct win *wb, size_t *i, size_t *j)
{
	size_t	ni, nj;

	skip_change(wa, wb, i, j);
	for (;;) {
		ni = *i;
		nj = *j;
		/* contexts that touch or overlap make one hunk */
		if (!next_change(wa, wb, &ni, &nj) ||
		    ni - *i > 2 * UDIFF_CONTEXT)
			return;
		skip_change(wa, wb, &ni, &nj);
		*i = ni;
		*j = nj;
	}
}

static int
render(struct obuf *o, const struct win *wa, const struct win *wb,
    const char *alabel, const char *blabel)
{
	size_t	i = 0, j = 0, i1, j1;
	int	r;

	if ((r = ob_label(o, "--- ", alabel)) != 0 ||
	    (r = ob_label(o, "+++ ", blabel)) != 0)
		return r;
	while (next_change(wa, wb, &i, &j)) {
		i1 = i;
		j1 = j;
		hunk_end(wa, wb, &i1, &j1);
		if ((r = emit_hunk(o, wa, wb, i, j, i1, j1)) != 0)
			return r;
		i = i1;
		j = j1;
	}
	return 0;
}

int
udiff(const char *a, size_t alen, const char *b, size_t blen,
    const char *alabel, const char *blabel, char **out, size_t *outlen)
{
	struct win	wa, wb;
	struct obuf	o;
	int		r;

	if (out == NULL)
		return KE_INTERNAL;
	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((a == NULL && alen > 0) || (b == NULL && blen > 0) ||
	    alabel == NULL || blabel == NULL)
		return KE_INTERNAL;
	memset(&wa, 0, sizeof(wa));
	memset(&wb, 0, sizeof(wb));
	memset(&o, 0, sizeof(o));
	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	if (alen == blen && memcmp(a, b, alen) == 0)
		r = ob_reserve(&o, 0);
	else {
		find_windows(a, alen, b, blen, &wa, &wb);
		if ((r = split_lines(&wa)) == 0 &&
		    (r = split_lines(&wb)) == 0 &&
		    (r = run_diff(&wa, &wb)) == 0)
			r = render(&o, &wa, &wb, alabel, blabel);
	}
	if (r == 0) {
		o.p[o.len] = '\0';
		*out = o.p;
		o.p = NULL;
		if (outlen != NULL)
			*outlen = o.len;
	}
	free(o.p);
	free(wa.off);
	free(wa.chg);
	free(wb.off);
	free(wb.chg);
	return r;
}
