/* The CSV reader's plain rows in C: the twin of the row loop (hrviz/core/reader/parse.py, RowLoop.run)
 * for the rows it can vouch for, in single-subject layouts timed by one ISO-8601 or plain-number
 * column, or by none (hrviz/core/reader/fastrows.py picks them).
 *
 * Rows(...) is both the file's line source and the fast path. run() reads lines and takes each row
 * that is certainly plain: no quote, a time this file cannot read otherwise, inside the window, in
 * order, a heart rate that is a plain positive number (or blank); it appends those to the collector's
 * columns and counts them, exactly as RowLoop.run would. Anything else (a bad time, a placeholder,
 * a straggler, a quote, an unusual ISO form, the first offset of an aware file) is handed back
 * untouched in .line, and Python reads that row (pulling further lines through this same iterator
 * when a quoted cell spans lines). "Certainly" is the rule: every form taken here is one that
 * datetime.fromisoformat and float() read to the same numbers, and the floats are computed with the
 * same operations in the same order, so the results are bit-identical.
 *
 * A text stream's lines are split here from blocks of its read() (as TextIOWrapper splits them with
 * newline="": at \n, \r\n or \r), so there is no str per line either; the head's lines and a plain
 * iterator's items are taken one item a line, as csv.reader takes them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

enum { TIME_NONE = 0, TIME_ISO = 1, TIME_NUMBER = 2 };   /* fastrows.NONE, ISO, NUMBER */
enum { RUN_END = 0, RUN_HARD = 1, RUN_CHUNK = 2 };       /* fastrows.END, HARD, CHUNK */
enum { ROW_OK, ROW_SKIP, ROW_HARD };
#define BUF_ROWS 2048
#define NUMBER_MAX 63                       /* longer numbers are left to Python */
#define EXACT_US ((int64_t)1 << 53)         /* beyond, int / int and double / double may round differently */
/* The text helpers take the str's kind (1, 2 or 4 bytes a character); forced inline into one copy per kind
 * (see row and find_break), each copy reads its characters without asking the kind again. */
#if defined(__GNUC__)
#define TEXT static inline __attribute__((always_inline))
#else
#define TEXT static inline
#endif

typedef struct {
    PyObject_HEAD
    PyObject *head;     /* list of lines, served first */
    Py_ssize_t head_at;
    PyObject *rest;     /* iterator of lines, used when read is NULL */
    PyObject *read;     /* the text stream's read(n), or NULL */
    PyObject *block;    /* the block being split */
    Py_ssize_t at;
    PyObject *pending;  /* a line begun in the previous block */
    int cr_pending;     /* ... ending in \r: the next block may begin with its \n */
    int eof;
    Py_ssize_t lines;   /* lines handed out, by run() and by __next__ */
    PyObject *line;     /* the line run() handed back */
    Py_UCS4 delimiter;
    Py_ssize_t tcol, hcol, field_limit, block_chars;
    int time_kind, relative, aware;
    double scale, start, interval, low, high;
} Rows;

/* A line: [start, end) of obj (a new reference), its break included. */
typedef struct {
    PyObject *obj;
    int kind;
    const void *data;
    Py_ssize_t start, end;
} View;

/* What run() knows of the loop while it runs (read from and written back to the Python objects). */
typedef struct {
    double last;
    long long rows, duplicates, next_chunk;
    int first_row;
    int suffix_kind;
    const void *suffix_data;
    Py_ssize_t suffix_len;
    double suffix_seconds;
} State;

static int view_of(PyObject *obj, Py_ssize_t start, Py_ssize_t end, View *v)
{
    v->obj = obj; /* stolen */
    v->start = start;
    v->end = end;
    if (PyUnicode_Check(obj)) {
        v->kind = PyUnicode_KIND(obj);
        v->data = PyUnicode_DATA(obj);
    } else { /* csv.reader refuses it: Python says how */
        v->kind = 0;
        v->data = NULL;
    }
    return 1;
}

TEXT Py_ssize_t find_break_k(int kind, const void *data, Py_ssize_t from, Py_ssize_t len)
{
    for (Py_ssize_t i = from; i < len; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c == '\n' || c == '\r')
            return i;
    }
    return -1;
}

static Py_ssize_t find_break(int kind, const void *data, Py_ssize_t from, Py_ssize_t len)
{
    if (kind == PyUnicode_1BYTE_KIND)
        return find_break_k(PyUnicode_1BYTE_KIND, data, from, len);
    if (kind == PyUnicode_2BYTE_KIND)
        return find_break_k(PyUnicode_2BYTE_KIND, data, from, len);
    return find_break_k(PyUnicode_4BYTE_KIND, data, from, len);
}

/* pending + block[from:to], as the new pending (or the line) */
static PyObject *joined(PyObject *pending, PyObject *block, Py_ssize_t from, Py_ssize_t to)
{
    PyObject *part = PyUnicode_Substring(block, from, to);
    if (part == NULL || pending == NULL)
        return part;
    PyObject *both = PyUnicode_Concat(pending, part);
    Py_DECREF(part);
    return both;
}

/* The next line of the blocks: 1 with v set, 0 at the end, -1 on an error (LineTooLong among them). */
static int next_block_line(Rows *self, View *v)
{
    for (;;) {
        if (self->block != NULL) {
            Py_ssize_t len = PyUnicode_GET_LENGTH(self->block);
            int kind = PyUnicode_KIND(self->block);
            const void *data = PyUnicode_DATA(self->block);
            if (self->cr_pending && self->at < len) { /* the \r was the end of a block: is its \n next? */
                PyObject *line = self->pending;
                Py_ssize_t end = PyUnicode_READ(kind, data, self->at) == '\n' ? self->at + 1 : self->at;
                if (end > self->at) {
                    line = joined(self->pending, self->block, self->at, end);
                    Py_CLEAR(self->pending);
                    if (line == NULL)
                        return -1;
                }
                self->pending = NULL;
                self->cr_pending = 0;
                self->at = end;
                return view_of(line, 0, PyUnicode_GET_LENGTH(line), v);
            }
            if (self->at < len) {
                Py_ssize_t i = find_break(kind, data, self->at, len);
                Py_ssize_t end = -1;
                if (i >= 0 && PyUnicode_READ(kind, data, i) == '\n')
                    end = i + 1;
                else if (i >= 0 && i + 1 < len)
                    end = PyUnicode_READ(kind, data, i + 1) == '\n' ? i + 2 : i + 1;
                if (end >= 0) {
                    Py_ssize_t from = self->at;
                    self->at = end;
                    if (self->pending == NULL) {
                        Py_INCREF(self->block);
                        return view_of(self->block, from, end, v);
                    }
                    PyObject *line = joined(self->pending, self->block, from, end);
                    Py_CLEAR(self->pending);
                    if (line == NULL)
                        return -1;
                    return view_of(line, 0, PyUnicode_GET_LENGTH(line), v);
                }
                /* no break, or a \r last: the line goes on in the next block */
                PyObject *more = joined(self->pending, self->block, self->at, len);
                if (more == NULL)
                    return -1;
                Py_XSETREF(self->pending, more);
                self->cr_pending = i >= 0;
                self->at = len;
            }
        }
        if (self->eof) {
            if (self->pending == NULL)
                return 0;
            PyObject *line = self->pending;
            self->pending = NULL;
            self->cr_pending = 0;
            return view_of(line, 0, PyUnicode_GET_LENGTH(line), v);
        }
        PyObject *block = PyObject_CallFunction(self->read, "n", self->block_chars);
        if (block == NULL)
            return -1;
        if (!PyUnicode_Check(block)) {
            PyErr_Format(PyExc_TypeError, "read() should return str, not %.100s", Py_TYPE(block)->tp_name);
            Py_DECREF(block);
            return -1;
        }
        Py_XSETREF(self->block, block);
        self->at = 0;
        self->eof = PyUnicode_GET_LENGTH(block) == 0;
    }
}

/* The next line from wherever lines come from now. */
static int next_line(Rows *self, View *v)
{
    if (self->head_at < PyList_GET_SIZE(self->head)) {
        PyObject *item = PyList_GET_ITEM(self->head, self->head_at);
        self->head_at++;
        Py_INCREF(item);
        return view_of(item, 0, PyUnicode_Check(item) ? PyUnicode_GET_LENGTH(item) : 0, v);
    }
    if (self->read != NULL)
        return next_block_line(self, v);
    PyObject *item = PyIter_Next(self->rest);
    if (item == NULL)
        return PyErr_Occurred() ? -1 : 0;
    return view_of(item, 0, PyUnicode_Check(item) ? PyUnicode_GET_LENGTH(item) : 0, v);
}

static PyObject *view_str(View *v)
{
    if (v->kind == 0 || (v->start == 0 && v->end == PyUnicode_GET_LENGTH(v->obj))) {
        Py_INCREF(v->obj);
        return v->obj;
    }
    return PyUnicode_Substring(v->obj, v->start, v->end);
}

/* --- one row ------------------------------------------------------------------------------------ */

TEXT int digits(int kind, const void *data, Py_ssize_t at, int n, int *out)
{
    int value = 0;
    for (int k = 0; k < n; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, at + k);
        if (c < '0' || c > '9')
            return -1;
        value = value * 10 + (int)(c - '0');
    }
    *out = value;
    return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) ? 29 : days[m - 1];
}

/* "YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}]" at [s, e): microseconds since the epoch as a naive time and where it
 * ends; -1 for anything else (fromisoformat reads many more forms: those are Python's). */
TEXT int iso_naive(int kind, const void *data, Py_ssize_t s, Py_ssize_t e, int64_t *us, Py_ssize_t *after)
{
    int y, mo, d, h, mi, sec, frac = 0;
    if (e - s < 19 || PyUnicode_READ(kind, data, s + 4) != '-' || PyUnicode_READ(kind, data, s + 7) != '-' ||
        PyUnicode_READ(kind, data, s + 13) != ':' || PyUnicode_READ(kind, data, s + 16) != ':')
        return -1;
    Py_UCS4 sep = PyUnicode_READ(kind, data, s + 10);
    if ((sep != 'T' && sep != ' ') || digits(kind, data, s, 4, &y) < 0 || digits(kind, data, s + 5, 2, &mo) < 0 ||
        digits(kind, data, s + 8, 2, &d) < 0 || digits(kind, data, s + 11, 2, &h) < 0 ||
        digits(kind, data, s + 14, 2, &mi) < 0 || digits(kind, data, s + 17, 2, &sec) < 0)
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return -1;
    Py_ssize_t p = s + 19;
    if (p < e && PyUnicode_READ(kind, data, p) == '.') {
        int n = 0;
        p++;
        while (p < e && n < 7) {
            Py_UCS4 c = PyUnicode_READ(kind, data, p);
            if (c < '0' || c > '9')
                break;
            frac = frac * 10 + (int)(c - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 6) /* 7 digits and more are cut to 6 by fromisoformat: left to it */
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    *us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
    *after = p;
    return 0;
}

/* "Z", "+HH:MM" or "+HHMM" (or -) exactly filling [p, e): the offset in seconds; -1 for anything else. */
TEXT int iso_offset(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, int *seconds)
{
    Py_UCS4 c = PyUnicode_READ(kind, data, p);
    int hh, mm;
    if (c == 'Z' && e - p == 1) {
        *seconds = 0;
        return 0;
    }
    if (c != '+' && c != '-')
        return -1;
    if (e - p == 6 && PyUnicode_READ(kind, data, p + 3) == ':') {
        if (digits(kind, data, p + 1, 2, &hh) < 0 || digits(kind, data, p + 4, 2, &mm) < 0)
            return -1;
    } else if (e - p == 5) {
        if (digits(kind, data, p + 1, 2, &hh) < 0 || digits(kind, data, p + 3, 2, &mm) < 0)
            return -1;
    } else {
        return -1;
    }
    if (hh > 23 || mm > 59)
        return -1;
    *seconds = (c == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 0;
}

static int exact(int64_t us) { return us <= EXACT_US && us >= -EXACT_US; }

/* RowLoop.run's ISO branch: the file's own offset cut off, else a full parse. */
TEXT int iso_time(Rows *self, const State *st, int kind, const void *data, Py_ssize_t s, Py_ssize_t e, double *t)
{
    int64_t us;
    Py_ssize_t after;
    Py_ssize_t n = st->suffix_len;
    if (n > 0 && e - s >= n) {
        Py_ssize_t k = 0;
        while (k < n && PyUnicode_READ(kind, data, e - n + k) == PyUnicode_READ(st->suffix_kind, st->suffix_data, k))
            k++;
        if (k == n) { /* (fromiso(cell[:cut]) - EPOCH).total_seconds() - suffix_seconds */
            if (iso_naive(kind, data, s, e - n, &us, &after) < 0 || after != e - n || !exact(us))
                return ROW_HARD;
            *t = (double)us / 1e6 - st->suffix_seconds;
            return ROW_OK;
        }
    }
    if (iso_naive(kind, data, s, e, &us, &after) < 0)
        return ROW_HARD;
    if (after == e) { /* naive: (dt - EPOCH).total_seconds(); in an aware file a bad row */
        if (self->aware || !exact(us))
            return ROW_HARD;
        *t = (double)us / 1e6;
        return ROW_OK;
    }
    int offset;
    /* aware: dt.timestamp(), exact microseconds divided once; the first offset seen is Python's to note */
    if (!self->aware || n == 0 || iso_offset(kind, data, after, e, &offset) < 0)
        return ROW_HARD;
    us -= (int64_t)offset * 1000000;
    if (!exact(us))
        return ROW_HARD;
    *t = (double)us / 1e6;
    return ROW_OK;
}

/* A plain decimal (digits, at most one `point`, a digit at least) read by float(): 0, or -1 for anything else.
 * Up to 15 digits without a point are an integer, which a double holds exactly (float() gives the same). */
TEXT int decimal(int kind, const void *data, Py_ssize_t s, Py_ssize_t e, Py_UCS4 point, double *out)
{
    char buf[NUMBER_MAX + 1];
    Py_ssize_t n = e - s;
    int seen_digit = 0, seen_point = 0;
    uint64_t whole = 0; /* unsigned: wraps harmlessly past 15 digits, where it is not used */
    if (n < 1 || n > NUMBER_MAX)
        return -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, s + k);
        if (c >= '0' && c <= '9') {
            seen_digit = 1;
            buf[k] = (char)c;
            whole = whole * 10 + (c - (Py_UCS4)'0');
        } else if (c == point && !seen_point) {
            seen_point = 1;
            buf[k] = '.';
        } else {
            return -1;
        }
    }
    if (!seen_digit)
        return -1;
    if (!seen_point && n <= 15) {
        *out = (double)whole;
        return 0;
    }
    buf[n] = '\0';
    *out = PyOS_string_to_double(buf, NULL, NULL);
    if (*out == -1.0 && PyErr_Occurred()) { /* cannot happen for such text; Python decides if it does */
        PyErr_Clear();
        return -1;
    }
    return 0;
}

/* One line: ROW_OK with its (t, v), ROW_SKIP for a blank line, ROW_HARD for Python to read. */
TEXT int row_k(Rows *self, const State *st, int kind, const View *ln, double *t_out, double *v_out)
{
    const void *data = ln->data;
    Py_ssize_t s = ln->start, e = ln->end;
    if (e > s && PyUnicode_READ(kind, data, e - 1) == '\n')
        e--;
    if (e > s && PyUnicode_READ(kind, data, e - 1) == '\r')
        e--;
    if (e == s) /* csv.reader: [] */
        return ROW_SKIP;
    if (e - s >= self->field_limit) /* csv's field size limit: Python says so */
        return ROW_HARD;
    /* the cells, as csv.reader(delimiter=..., skipinitialspace=True) splits a line without quotes */
    Py_ssize_t field = 0, fs = s, ts = -1, te = -1, hs = -1, he = -1;
    int at_start = 1;
    for (Py_ssize_t i = s; i <= e; i++) {
        Py_UCS4 c = i < e ? PyUnicode_READ(kind, data, i) : self->delimiter;
        if (i < e && (c == '"' || c == '\r' || c == '\n' || c == '\0'))
            return ROW_HARD;
        if (c == self->delimiter) {
            if (at_start)
                fs = i;
            if (field == self->tcol) {
                ts = fs;
                te = i;
            }
            if (field == self->hcol) {
                hs = fs;
                he = i;
            }
            field++;
            at_start = 1;
        } else if (at_start && c != ' ') {
            fs = i;
            at_start = 0;
        }
    }
    double t, v;
    if (self->time_kind == TIME_NONE) {
        t = self->start + (double)st->rows * self->interval;
    } else if (ts < 0) { /* no time cell */
        return ROW_HARD;
    } else if (self->time_kind == TIME_ISO) {
        if (iso_time(self, st, kind, data, ts, te, &t) != ROW_OK)
            return ROW_HARD;
    } else {
        if (decimal(kind, data, ts, te, '.', &v) < 0)
            return ROW_HARD;
        t = self->scale != 1.0 ? v / self->scale : v;
        if (self->relative)
            t = self->start + t;
    }
    if (!(self->low <= t && t < self->high)) /* a bad row: reported by Python */
        return ROW_HARD;
    if (hs < 0 || he == hs) { /* no heart-rate cell, or a blank one: missing */
        v = Py_NAN;
    } else if (decimal(kind, data, hs, he, '.', &v) == 0) {
        if (!(v > 0)) /* 0: a placeholder, counted by Python */
            return ROW_HARD;
    } else if (self->delimiter != ',' && decimal(kind, data, hs, he, ',', &v) == 0) {
        if (!(v > 0)) /* _loose_bpm: a decimal comma; not positive is missing */
            v = Py_NAN;
    } else {
        return ROW_HARD;
    }
    if (t < st->last) /* a straggler: Python sorts it in (or stops the chunks) */
        return ROW_HARD;
    *t_out = t;
    *v_out = v;
    return ROW_OK;
}

static int row(Rows *self, const State *st, const View *ln, double *t_out, double *v_out)
{
    switch (ln->kind) {
    case PyUnicode_1BYTE_KIND:
        return row_k(self, st, PyUnicode_1BYTE_KIND, ln, t_out, v_out);
    case PyUnicode_2BYTE_KIND:
        return row_k(self, st, PyUnicode_2BYTE_KIND, ln, t_out, v_out);
    case PyUnicode_4BYTE_KIND:
        return row_k(self, st, PyUnicode_4BYTE_KIND, ln, t_out, v_out);
    default: /* not a str: csv.reader refuses it, Python says how */
        return ROW_HARD;
    }
}

/* --- the object ----------------------------------------------------------------------------------- */

static int get_double(PyObject *obj, const char *name, double *out)
{
    PyObject *value = PyObject_GetAttrString(obj, name);
    if (value == NULL)
        return -1;
    *out = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

static int get_long(PyObject *obj, const char *name, long long *out)
{
    PyObject *value = PyObject_GetAttrString(obj, name);
    if (value == NULL)
        return -1;
    *out = PyLong_AsLongLong(value);
    Py_DECREF(value);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    int rc = value == NULL ? -1 : PyObject_SetAttrString(obj, name, value);
    Py_XDECREF(value);
    return rc;
}

static int flush(PyObject *ts, PyObject *bpm, const double *tbuf, const double *vbuf, Py_ssize_t n)
{
    if (n == 0)
        return 0;
    PyObject *r = PyObject_CallMethod(ts, "frombytes", "y#", (const char *)tbuf, n * (Py_ssize_t)sizeof(double));
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    r = PyObject_CallMethod(bpm, "frombytes", "y#", (const char *)vbuf, n * (Py_ssize_t)sizeof(double));
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

PyDoc_STRVAR(run_doc,
"run(acc, loop) -> int\n\n"
"Read rows until one is for Python (1: it is in .line), chunk_rows are due (2) or the lines end (0).\n"
"Reads and updates acc.ts, acc.bpm, acc.last, acc.rows, acc.duplicates and loop.first_row; reads\n"
"loop.next_chunk, loop.suffix and loop.suffix_seconds.");

static PyObject *Rows_run(Rows *self, PyObject *args)
{
    PyObject *acc, *loop, *ts = NULL, *bpm = NULL, *suffix = NULL;
    double tbuf[BUF_ROWS], vbuf[BUF_ROWS];
    Py_ssize_t n = 0;
    State st;
    int status = RUN_END;
    if (!PyArg_ParseTuple(args, "OO:run", &acc, &loop))
        return NULL;
    if (self->head == NULL) {
        PyErr_SetString(PyExc_ValueError, "Rows was not initialised");
        return NULL;
    }
    Py_CLEAR(self->line);
    if ((ts = PyObject_GetAttrString(acc, "ts")) == NULL || (bpm = PyObject_GetAttrString(acc, "bpm")) == NULL ||
        (suffix = PyObject_GetAttrString(loop, "suffix")) == NULL)
        goto error;
    if (!PyUnicode_Check(suffix)) {
        PyErr_SetString(PyExc_TypeError, "loop.suffix must be a str");
        goto error;
    }
    st.suffix_kind = PyUnicode_KIND(suffix);
    st.suffix_data = PyUnicode_DATA(suffix);
    st.suffix_len = PyUnicode_GET_LENGTH(suffix);
    PyObject *first = PyObject_GetAttrString(loop, "first_row");
    if (first == NULL)
        goto error;
    st.first_row = PyObject_IsTrue(first);
    Py_DECREF(first);
    if (st.first_row < 0 || get_double(acc, "last", &st.last) < 0 || get_long(acc, "rows", &st.rows) < 0 ||
        get_long(acc, "duplicates", &st.duplicates) < 0 || get_long(loop, "next_chunk", &st.next_chunk) < 0 ||
        get_double(loop, "suffix_seconds", &st.suffix_seconds) < 0)
        goto error;
    for (;;) {
        View ln;
        int got = next_line(self, &ln);
        if (got < 0)
            goto error;
        if (got == 0)
            break;
        self->lines++;
        double t, v;
        int r = row(self, &st, &ln, &t, &v);
        if (r == ROW_HARD) {
            self->line = view_str(&ln);
            Py_DECREF(ln.obj);
            if (self->line == NULL)
                goto error;
            status = RUN_HARD;
            break;
        }
        Py_DECREF(ln.obj);
        if (r == ROW_SKIP)
            continue;
        st.first_row = 0;
        st.rows++;
        if (t == st.last) {
            st.duplicates++;
            continue;
        }
        tbuf[n] = t;
        vbuf[n] = v;
        st.last = t;
        if (++n == BUF_ROWS) {
            if (flush(ts, bpm, tbuf, vbuf, n) < 0)
                goto error;
            n = 0;
        }
        if (st.rows >= st.next_chunk) {
            status = RUN_CHUNK;
            break;
        }
    }
    if (flush(ts, bpm, tbuf, vbuf, n) < 0 || set_attr(acc, "last", PyFloat_FromDouble(st.last)) < 0 ||
        set_attr(acc, "rows", PyLong_FromLongLong(st.rows)) < 0 ||
        set_attr(acc, "duplicates", PyLong_FromLongLong(st.duplicates)) < 0 ||
        set_attr(loop, "first_row", PyBool_FromLong(st.first_row)) < 0)
        goto error;
    Py_DECREF(ts);
    Py_DECREF(bpm);
    Py_DECREF(suffix);
    return PyLong_FromLong(status);
error: /* the caller gives up on the file: what was read so far is not written back */
    Py_XDECREF(ts);
    Py_XDECREF(bpm);
    Py_XDECREF(suffix);
    return NULL;
}

static PyObject *Rows_iternext(Rows *self)
{
    View ln;
    if (self->head == NULL) {
        PyErr_SetString(PyExc_ValueError, "Rows was not initialised");
        return NULL;
    }
    int got = next_line(self, &ln);
    if (got <= 0)
        return NULL; /* an error is set, or none: the end */
    self->lines++;
    PyObject *line = view_str(&ln);
    Py_DECREF(ln.obj);
    return line;
}

static int Rows_init(Rows *self, PyObject *args, PyObject *kwds)
{
    PyObject *head, *rest, *read, *delimiter;
    int relative, aware;
    static char *names[] = {"head", "rest", "read", "delimiter", "tcol", "hcol", "time_kind", "scale", "relative",
                            "start", "interval", "low", "high", "aware", "field_limit", "block_chars",
                            NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOUnnidpddddpnn:Rows", names, &PyList_Type, &head, &rest, &read,
                                     &delimiter, &self->tcol, &self->hcol, &self->time_kind, &self->scale, &relative,
                                     &self->start, &self->interval, &self->low, &self->high, &aware,
                                     &self->field_limit, &self->block_chars))
        return -1;
    if (PyUnicode_GET_LENGTH(delimiter) != 1) {
        PyErr_SetString(PyExc_ValueError, "delimiter must be one character");
        return -1;
    }
    if (self->time_kind < TIME_NONE || self->time_kind > TIME_NUMBER || self->hcol < 0 || self->block_chars < 1) {
        PyErr_SetString(PyExc_ValueError, "unknown time kind, no heart-rate column or no block size");
        return -1;
    }
    self->delimiter = PyUnicode_READ_CHAR(delimiter, 0);
    self->relative = relative;
    self->aware = aware;
    if (self->time_kind == TIME_NONE)
        self->tcol = -1;
    Py_INCREF(head);
    Py_XSETREF(self->head, head);
    PyObject *it = PyObject_GetIter(rest);
    if (it == NULL)
        return -1;
    Py_XSETREF(self->rest, it);
    if (read != Py_None) {
        Py_INCREF(read);
        Py_XSETREF(self->read, read);
    }
    return 0;
}

static void Rows_dealloc(Rows *self)
{
    PyTypeObject *type = Py_TYPE(self);
    Py_XDECREF(self->head);
    Py_XDECREF(self->rest);
    Py_XDECREF(self->read);
    Py_XDECREF(self->block);
    Py_XDECREF(self->pending);
    Py_XDECREF(self->line);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef Rows_methods[] = {
    {"run", (PyCFunction)Rows_run, METH_VARARGS, run_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Rows_members[] = {
    {"line", T_OBJECT, offsetof(Rows, line), READONLY, "the line run() handed back to Python"},
    {"lines", T_PYSSIZET, offsetof(Rows, lines), READONLY, "lines handed out so far, by run() and by iteration"},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Rows_slots[] = {
    {Py_tp_doc, "A CSV's lines, and its plain rows read into a collector (see run)."},
    {Py_tp_init, Rows_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Rows_dealloc},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, Rows_iternext},
    {Py_tp_methods, Rows_methods},
    {Py_tp_members, Rows_members},
    {0, NULL},
};

/* No GC support: a Rows holds lines, a text stream's read and an iterator, none of which leads back to it. */
static PyType_Spec Rows_spec = {"hrviz.core.reader._cparse.Rows", sizeof(Rows), 0, Py_TPFLAGS_DEFAULT, Rows_slots};

static int exec_module(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &Rows_spec, NULL);
    if (type == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "Rows", type);
    Py_DECREF(type);
    return rc;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, exec_module},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cparse", "The CSV row loop's plain rows (see hrviz/core/reader/fastrows.py).", 0, NULL,
    module_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cparse(void) { return PyModuleDef_Init(&module); }
