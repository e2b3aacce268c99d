/* The Kafka records of a ReadingBatch, built in C: the twin of RecordEncoder.encode_batch and
 * RecordEncoder.encode_block (records.py), which stay the reference and give the very same text.
 *
 * Why: on a million readings the Python encoder spends most of its time printing floats (repr),
 * ints (str) and gluing f-strings; here each record is written straight into one buffer.
 *
 * The kernel only does the plain case and answers None for anything else (a float subclass, an
 * item that is not a float, a mark that is not (bool, tuple), text that is not ASCII, a seq past
 * int64), so the caller runs the Python code, which then gives its usual result or error. Times
 * it cannot print exactly as datetime would (not finite, outside the years 1000-9999) are asked
 * of the Python encoder's own _iso_t, one value at a time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#include "../_cbuf.h"

/* local seconds of 1000-01-01T00:00:00 and 9999-12-31T23:59:59: years strftime prints in 4 digits */
#define LO_SECONDS (-30610224000LL)
#define HI_SECONDS 253402300799LL

static void put2(Buf *b, int v) {
    b->p[b->n++] = (char)('0' + v / 10);
    b->p[b->n++] = (char)('0' + v % 10);
}

static int put_ascii(Buf *b, PyObject *s) {
    if (!PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s))
        return 1;
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    if (reserve(b, len) < 0)
        return -1;
    put(b, (const char *)PyUnicode_DATA(s), len);
    return 0;
}

/* The proleptic Gregorian date of a day number (days since 1970-01-01), H. Hinnant's algorithm. */
static void civil(long long days, int *y, int *m, int *d) {
    days += 719468;
    long long era = (days >= 0 ? days : days - 146096) / 146097;
    long long doe = days - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "YYYY-MM-DDTHH:MM:SS" of local seconds in [LO_SECONDS, HI_SECONDS]; 19 bytes. */
static void put_datetime(Buf *b, long long local) {
    long long days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
    int secs = (int)(local - days * 86400), y, m, d;
    civil(days, &y, &m, &d);
    put2(b, y / 100);
    put2(b, y % 100);
    b->p[b->n++] = '-';
    put2(b, m);
    b->p[b->n++] = '-';
    put2(b, d);
    b->p[b->n++] = 'T';
    put2(b, secs / 3600);
    b->p[b->n++] = ':';
    put2(b, secs / 60 % 60);
    b->p[b->n++] = ':';
    put2(b, secs % 60);
}

/* datetime.fromtimestamp's split of a finite float into whole seconds and microseconds, rounded
 * half to even exactly as CPython's _PyTime_DoubleToDenominator does. */
static void split_us(double ts, long long *sec, long *us) {
    double intpart;
    volatile double frac = modf(ts, &intpart); /* volatile: as CPython, no excess precision */
    frac *= 1e6;
    double rounded = round(frac);
    if (fabs(frac - rounded) == 0.5)
        rounded = 2.0 * round(frac / 2.0);
    frac = rounded;
    if (frac >= 1e6) {
        frac -= 1e6;
        intpart += 1.0;
    } else if (frac < 0) {
        frac += 1e6;
        intpart -= 1.0;
    }
    *sec = (long long)intpart;
    *us = (long)frac;
}

typedef struct {
    const char *suffix; /* "", "Z" or "+HH:MM": what follows the seconds */
    Py_ssize_t suffix_len;
    long long offset;   /* the file's UTC offset in seconds (0 when it had none); |offset| < 1 day */
    PyObject *iso_t;    /* RecordEncoder._iso_t: the text of any time this file does not print */
} Times;

/* The "ts" text and the '","t":' after it, as RecordEncoder._iso_t gives it. 0, 1 (not ASCII), -1. */
static int put_iso(Buf *b, const Times *t, PyObject *item, double ts) {
    if (isfinite(ts) && fabs(ts) < 1e15) {
        long long sec;
        long us = -1; /* -1: a whole second, printed without a fraction */
        if (ts == floor(ts))
            sec = (long long)ts;
        else
            split_us(ts, &sec, &us);
        long long local = sec + t->offset;
        /* a fraction goes through the UTC datetime first: both must be in range */
        if (local >= LO_SECONDS && local <= HI_SECONDS && (us < 0 || (sec >= LO_SECONDS && sec <= HI_SECONDS))) {
            if (reserve(b, 32 + t->suffix_len) < 0)
                return -1;
            put_datetime(b, local);
            if (us >= 0) {
                long ms = us / 1000; /* isoformat(timespec="milliseconds") truncates */
                b->p[b->n++] = '.';
                b->p[b->n++] = (char)('0' + ms / 100);
                put2(b, (int)(ms % 100));
            }
            put(b, t->suffix, t->suffix_len);
            put(b, "\",\"t\":", 6);
            return 0;
        }
    }
    PyObject *text = PyObject_CallOneArg(t->iso_t, item);
    if (text == NULL)
        return -1;
    int rc = put_ascii(b, text);
    Py_DECREF(text);
    return rc;
}

/* The marked readings' (filled, kinds JSON) by offset; NULL entries are plain readings. 0, 1 (not
 * the plain case), -1. */
static int collect_marks(PyObject *marks, Py_ssize_t n, PyObject *kinds_json, PyObject **texts, char *filled) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(marks, &pos, &key, &value)) {
        if (!PyLong_CheckExact(key) || !PyTuple_CheckExact(value) || PyTuple_GET_SIZE(value) != 2)
            return 1;
        Py_ssize_t i = PyLong_AsSsize_t(key);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 1;
        }
        if (i < 0 || i >= n)
            return 1;
        PyObject *flag = PyTuple_GET_ITEM(value, 0), *kinds = PyTuple_GET_ITEM(value, 1);
        if (!PyBool_Check(flag) || !PyTuple_CheckExact(kinds))
            return 1;
        PyObject *text = PyObject_CallOneArg(kinds_json, kinds);
        if (text == NULL)
            return -1;
        if (!PyUnicode_Check(text) || !PyUnicode_IS_ASCII(text)) {
            Py_DECREF(text);
            return 1;
        }
        Py_XSETREF(texts[i], text);
        filled[i] = flag == Py_True;
    }
    return 0;
}

/* Every record of the batch: a list of str, or (block) one bytes object, each record followed by
 * a newline. None when the batch is not the plain case. */
static PyObject *encode(PyObject *args, int block) {
    PyObject *prefix, *first_obj, *ts_list, *bpm_list, *marks, *suffix, *iso_t, *kinds_json;
    long long offset;
    if (!PyArg_ParseTuple(args, "UOO!O!O!ULOO", &prefix, &first_obj, &PyList_Type, &ts_list, &PyList_Type,
                          &bpm_list, &PyDict_Type, &marks, &suffix, &offset, &iso_t, &kinds_json))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ts_list), prefix_len = PyUnicode_GET_LENGTH(prefix);
    int overflow = 0;
    long long first = PyLong_Check(first_obj) ? PyLong_AsLongLongAndOverflow(first_obj, &overflow) : 0;
    if (first == -1 && PyErr_Occurred())
        return NULL;
    if (!PyLong_Check(first_obj) || overflow || first > LLONG_MAX - n || PyList_GET_SIZE(bpm_list) != n ||
        !PyUnicode_IS_ASCII(prefix) || !PyUnicode_IS_ASCII(suffix) || offset <= -86400 || offset >= 86400)
        Py_RETURN_NONE;
    Times times = {(const char *)PyUnicode_DATA(suffix), PyUnicode_GET_LENGTH(suffix), offset, iso_t};
    const char *prefix_text = (const char *)PyUnicode_DATA(prefix);

    PyObject *result = NULL, *out = NULL, **texts = NULL;
    char *filled = NULL;
    Buf b = {NULL, 0, 0};
    int rc = 0;
    Py_ssize_t nmarks = PyDict_GET_SIZE(marks);
    if (nmarks) {
        texts = PyMem_Calloc((size_t)n + 1, sizeof(PyObject *));
        filled = PyMem_Calloc((size_t)n + 1, 1);
        if (texts == NULL || filled == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        if ((rc = collect_marks(marks, n, kinds_json, texts, filled)) != 0)
            goto done;
    }
    if (block) {
        if (reserve(&b, n * (prefix_len + 130) + 1) < 0)
            goto done;
    } else if ((out = PyList_New(n)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ts = PyList_GET_ITEM(ts_list, i), *bpm = PyList_GET_ITEM(bpm_list, i);
        if (!PyFloat_CheckExact(ts) || !PyFloat_CheckExact(bpm)) {
            rc = 1;
            goto done;
        }
        Py_ssize_t start = b.n;
        /* every fixed part of the record, the floats and the seq: 160 bytes is ample */
        if (reserve(&b, prefix_len + 160) < 0)
            goto done;
        put(&b, prefix_text, prefix_len);
        put_int(&b, first + i);
        put(&b, ",\"ts\":\"", 7);
        if ((rc = put_iso(&b, &times, ts, PyFloat_AS_DOUBLE(ts))) != 0)
            goto done;
        if (reserve(&b, 100) < 0)
            goto done;
        if (put_double(&b, PyFloat_AS_DOUBLE(ts)) < 0)
            goto done;
        put(&b, ",\"bpm\":", 7);
        if (put_double(&b, PyFloat_AS_DOUBLE(bpm)) < 0)
            goto done;
        if (texts != NULL && texts[i] != NULL) {
            if (filled[i])
                put(&b, ",\"filled\":true,\"kinds\":", 23);
            else
                put(&b, ",\"filled\":false,\"kinds\":", 24);
            if ((rc = put_ascii(&b, texts[i])) != 0 || reserve(&b, 2) < 0)
                goto done;
            put(&b, "}", 1);
        } else
            put(&b, ",\"filled\":false,\"kinds\":[]}", 27);
        if (block)
            put(&b, "\n", 1);
        else {
            PyObject *record = PyUnicode_New(b.n - start, 127);
            if (record == NULL)
                goto done;
            memcpy(PyUnicode_DATA(record), b.p + start, (size_t)(b.n - start));
            PyList_SET_ITEM(out, i, record);
            b.n = start; /* the buffer holds one record at a time */
        }
    }
    if (block) {
        if (reserve(&b, 1) < 0)
            goto done;
        if (n == 0)
            put(&b, "\n", 1); /* "\n".join([]) + "\n" */
        result = PyBytes_FromStringAndSize(b.p, b.n);
    } else {
        result = out;
        out = NULL;
    }
done:
    if (rc == 1 && !PyErr_Occurred())
        result = Py_NewRef(Py_None);
    Py_XDECREF(out);
    if (texts != NULL)
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(texts[i]);
    PyMem_Free(texts);
    PyMem_Free(filled);
    PyMem_Free(b.p);
    return result;
}

static PyObject *records(PyObject *self, PyObject *args) {
    (void)self;
    return encode(args, 0);
}

static PyObject *block(PyObject *self, PyObject *args) {
    (void)self;
    return encode(args, 1);
}

#define ARGS "(prefix, first_seq, ts, bpm, marks, suffix, offset_s, iso_t, kinds_json)"

static PyMethodDef methods[] = {
    {"records", records, METH_VARARGS,
     "records" ARGS " -> list[str] | None: RecordEncoder.encode_batch's records, None if not the plain case."},
    {"block", block, METH_VARARGS,
     "block" ARGS " -> bytes | None: the records, each followed by a newline, as one bytes object."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_crecords", "C twin of hrviz.adapters.queue.records.RecordEncoder's batch encoding.",
    0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__crecords(void) { return PyModuleDef_Init(&module); }
