/* C twin of hrviz.core.insights.batch.fold_plain (read that first: it is the reference).
 *
 * Ingest folds every plain stretch of a batch (the readings between two marked ones) into the
 * insights summary. The Python version builds three lists per stretch and loops once per clock
 * minute; this one walks the two columns in place. Results are the same to the bit: every float
 * sum is added in the same order (sum() starts from 0 and adds left to right), min/max keep the
 * first of equal values as Python's do, `%` is Python's float modulo, the minute search is
 * bisect_left's, dict keys are the very float objects Python would use (so NaN and -0.0 behave
 * alike), and attributes are updated in the same order (an exception leaves the same state).
 * Anything that is not a list of exact floats is handed back (None) to the Python function.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#include "_cinsights.h"

/* Python's sum() of floats (bltinmodule.c builtin_sum_impl): 0 + the first, then the rest left to
 * right; from 3.12 on with Neumaier's compensation, added in at the end when finite and non-zero. */
typedef struct {
    double f, c;
} Sum;

static inline void
sum_add(Sum *s, double x)
{
#if PY_VERSION_HEX >= 0x030C0000
    double t = s->f + x;
    if (fabs(s->f) >= fabs(x)) {
        s->c += (s->f - t) + x;
    }
    else {
        s->c += (x - t) + s->f;
    }
    s->f = t;
#else
    s->f += x;
#endif
}

static inline double
sum_of(const Sum *s)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (s->c != 0.0 && isfinite(s->c)) {
        return s->f + s->c;
    }
#endif
    return s->f;
}

/* The stretch as Python's fold_plain sees it: element 0 is the previous reading, element i > 0
 * is reading lo + i - 1; span i runs from element i to reading lo + i. Borrowed references. */
typedef struct {
    PyObject *ts, *bpm;
    Py_ssize_t lo, n;
    PyObject *prev_ts, *prev_bpm;
} Stretch;

static inline PyObject *
value_at(const Stretch *st, Py_ssize_t i)
{
    return i == 0 ? st->prev_bpm : PyList_GET_ITEM(st->bpm, st->lo + i - 1);
}

static inline double
start_at(const Stretch *st, Py_ssize_t i)
{
    return PyFloat_AS_DOUBLE(i == 0 ? st->prev_ts : PyList_GET_ITEM(st->ts, st->lo + i - 1));
}

static inline double
span_at(const Stretch *st, Py_ssize_t i)
{
    return PyFloat_AS_DOUBLE(PyList_GET_ITEM(st->ts, st->lo + i)) - start_at(st, i);
}

/* Counter(values) then seconds_at[v] += count * step, in first-occurrence order. Whole values
 * 0..SMALL-1 (nearly every heart rate) are counted by index; any other value by a dict, as Counter
 * does (equal keys are the same slot either way: -0.0 is 0.0's, NaN objects are their own). */
#define SMALL 512

static int
add_uniform(PyObject *seconds_at, const Stretch *st, double step)
{
    Py_ssize_t small[SMALL]; /* whole value -> its slot in keys/counts, -1 if not seen yet */
    for (int k = 0; k < SMALL; k++) {
        small[k] = -1;
    }
    PyObject *index = NULL; /* any other value -> its slot, made when one comes */
    Py_ssize_t *counts = PyMem_New(Py_ssize_t, st->n);
    PyObject **keys = PyMem_New(PyObject *, st->n); /* borrowed: the stretch's own objects */
    Py_ssize_t distinct = 0;
    int rc = -1;
    if (counts == NULL || keys == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < st->n; i++) {
        PyObject *v = value_at(st, i);
        double x = PyFloat_AS_DOUBLE(v);
        if (x >= 0 && x < SMALL && x == (double)(int)x) {
            Py_ssize_t *slot = &small[(int)x];
            if (*slot < 0) {
                *slot = distinct;
                keys[distinct] = v;
                counts[distinct++] = 0;
            }
            counts[*slot]++;
            continue;
        }
        if (index == NULL && (index = PyDict_New()) == NULL) {
            goto done;
        }
        PyObject *slot = PyDict_GetItemWithError(index, v);
        if (slot != NULL) {
            counts[PyLong_AsSsize_t(slot)]++;
            continue;
        }
        if (PyErr_Occurred()) {
            goto done;
        }
        PyObject *at = PyLong_FromSsize_t(distinct);
        if (at == NULL) {
            goto done;
        }
        int set = PyDict_SetItem(index, v, at);
        Py_DECREF(at);
        if (set < 0) {
            goto done;
        }
        keys[distinct] = v;
        counts[distinct++] = 1;
    }
    for (Py_ssize_t d = 0; d < distinct; d++) {
        if (add_seconds(seconds_at, keys[d], (double)counts[d] * step) < 0) {
            goto done;
        }
    }
    rc = 0;
done:
    Py_XDECREF(index);
    PyMem_Free(counts);
    PyMem_Free(keys);
    return rc;
}

/* The minutes loop of fold_plain: returns the minute in progress (new reference) or NULL. */
static PyObject *
fold_minutes(const Stretch *st, PyObject *minute, PyObject *minutes, PyObject *minute_type)
{
    Py_XINCREF(minute); /* minute may be None: then it is kept as NULL here */
    if (minute == Py_None) {
        Py_DECREF(minute);
        minute = NULL;
    }
    Py_ssize_t j = 0, n = st->n;
    while (j < n) {
        double pt = start_at(st, j);
        double start = pt - mod60(pt);
        double bound = start + 60.0;
        Py_ssize_t lo = j, hi = n; /* bisect_left(prev_ts, start + 60, j) */
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (start_at(st, mid) < bound) {
                lo = mid + 1;
            }
            else {
                hi = mid;
            }
        }
        Py_ssize_t k = lo;
        PyObject *start_obj = PyFloat_FromDouble(start);
        if (start_obj == NULL) {
            goto fail;
        }
        int same = 0;
        if (minute != NULL) {
            PyObject *old = PyObject_GetAttrString(minute, "start");
            if (old == NULL) {
                Py_DECREF(start_obj);
                goto fail;
            }
            int ne = PyObject_RichCompareBool(old, start_obj, Py_NE);
            Py_DECREF(old);
            if (ne < 0) {
                Py_DECREF(start_obj);
                goto fail;
            }
            same = !ne;
        }
        if (!same) {
            if (minute != NULL) {
                int appended = PyList_Append(minutes, minute);
                Py_CLEAR(minute);
                if (appended < 0) {
                    Py_DECREF(start_obj);
                    goto fail;
                }
            }
            minute = PyObject_CallOneArg(minute_type, start_obj);
        }
        Py_DECREF(start_obj);
        if (minute == NULL) {
            goto fail;
        }
        Sum seconds = {0.0, 0.0}, total = {0.0, 0.0};
        PyObject *low = NULL, *high = NULL; /* borrowed: min(part), max(part) */
        for (Py_ssize_t i = j; i < k; i++) {
            PyObject *v = value_at(st, i);
            double x = PyFloat_AS_DOUBLE(v);
            sum_add(&seconds, span_at(st, i));
            sum_add(&total, x);
            if (low == NULL || x < PyFloat_AS_DOUBLE(low)) {
                low = v;
            }
            if (high == NULL || x > PyFloat_AS_DOUBLE(high)) {
                high = v;
            }
        }
        /* count, seconds and total take += 0 and min([]) raises, as in Python (ts past 2**53) */
        if (add_attr_ssize(minute, "count", k - j) < 0) {
            goto fail;
        }
        if (k == j) {
            PyObject *zero = PyLong_FromLong(0);
            if (zero == NULL) {
                goto fail;
            }
            int failed = add_attr(minute, "seconds", zero) < 0 || add_attr(minute, "total", zero) < 0;
            Py_DECREF(zero);
            if (!failed) {
                PyErr_SetString(PyExc_ValueError, "min() arg is an empty sequence");
            }
            goto fail;
        }
        if (add_attr_double(minute, "seconds", sum_of(&seconds)) < 0
            || add_attr_double(minute, "total", sum_of(&total)) < 0) {
            goto fail;
        }
        const char *names[2] = {"low", "high"};
        PyObject *ends[2] = {low, high};
        for (int e = 0; e < 2; e++) { /* min(minute.low, low): low only when it is smaller */
            PyObject *old = PyObject_GetAttrString(minute, names[e]);
            if (old == NULL) {
                goto fail;
            }
            int better = PyObject_RichCompareBool(ends[e], old, e == 0 ? Py_LT : Py_GT);
            Py_DECREF(old);
            if (better < 0 || (better && PyObject_SetAttrString(minute, names[e], ends[e]) < 0)) {
                goto fail;
            }
        }
        j = k;
    }
    if (minute == NULL) { /* an empty stretch: the minute stays None */
        Py_RETURN_NONE;
    }
    return minute;
fail:
    Py_XDECREF(minute);
    return NULL;
}

static PyObject *
fold_plain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "fold_plain takes 10 arguments");
        return NULL;
    }
    PyObject *b = args[0], *ts = args[1], *bpm = args[2], *tracks = args[8], *minute_type = args[10 - 1];
    Py_ssize_t lo = PyLong_AsSsize_t(args[3]), hi = PyLong_AsSsize_t(args[4]);
    if ((lo == -1 || hi == -1) && PyErr_Occurred()) {
        return NULL;
    }
    double cap = PyFloat_AsDouble(args[7]);
    if (cap == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    /* only what the Python function would do the same way with doubles; else it does it */
    if (!PyList_CheckExact(ts) || !PyList_CheckExact(bpm) || !PyFloat_CheckExact(args[5])
        || !PyFloat_CheckExact(args[6]) || !PyFloat_CheckExact(args[7]) || lo < 0 || hi <= lo
        || hi > PyList_GET_SIZE(ts) || hi > PyList_GET_SIZE(bpm)) {
        Py_RETURN_NONE;
    }
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (!PyFloat_CheckExact(PyList_GET_ITEM(ts, i)) || !PyFloat_CheckExact(PyList_GET_ITEM(bpm, i))) {
            Py_RETURN_NONE;
        }
    }
    Stretch st = {ts, bpm, lo, hi - lo, args[5], args[6]};
    /* top, bottom, and the spans' max, min and first, with max()'s and min()'s comparisons */
    PyObject *top = st.prev_bpm, *bottom = st.prev_bpm;
    double first_span = span_at(&st, 0), max_span = first_span, min_span = first_span;
    for (Py_ssize_t i = 1; i < st.n; i++) {
        PyObject *v = value_at(&st, i);
        double x = PyFloat_AS_DOUBLE(v), span = span_at(&st, i);
        if (x > PyFloat_AS_DOUBLE(top)) {
            top = v;
        }
        if (x < PyFloat_AS_DOUBLE(bottom)) {
            bottom = v;
        }
        if (span > max_span) {
            max_span = span;
        }
        if (span < min_span) {
            min_span = span;
        }
    }
    if (max_span > cap) {
        Py_RETURN_FALSE;
    }
    PyObject *count = PyLong_FromSsize_t(st.n);
    if (count == NULL) {
        return NULL;
    }
    PyObject *end = PyList_GET_ITEM(ts, hi - 1);
    PyObject *ok = PyObject_CallFunctionObjArgs(tracks, b, count, value_at(&st, st.n - 1), top, bottom, end, NULL);
    Py_DECREF(count);
    if (ok == NULL) {
        return NULL;
    }
    int tracked = PyObject_IsTrue(ok);
    Py_DECREF(ok);
    if (tracked <= 0) {
        return tracked < 0 ? NULL : Py_NewRef(Py_False);
    }

    PyObject *s = PyObject_GetAttrString(b, "s");
    if (s == NULL) {
        return NULL;
    }
    PyObject *seconds_at = NULL, *minutes = NULL, *minute = NULL, *max_bpm = NULL;
    Sum covered_sum = {0.0, 0.0}, total_sum = {0.0, 0.0};
    for (Py_ssize_t i = 0; i < st.n; i++) {
        sum_add(&covered_sum, span_at(&st, i));
        sum_add(&total_sum, PyFloat_AS_DOUBLE(value_at(&st, i)));
    }
    double covered = sum_of(&covered_sum), total = sum_of(&total_sum);
    if (add_attr_ssize(s, "readings", st.n) < 0 || PyObject_SetAttrString(s, "last_ts", end) < 0
        || add_attr_double(s, "covered_s", covered) < 0 || add_attr_double(s, "measured_s", covered) < 0
        || add_attr_double(s, "total_bpm", total) < 0 || add_attr_ssize(s, "count_bpm", st.n) < 0) {
        goto fail;
    }
    max_bpm = PyObject_GetAttrString(s, "max_bpm");
    if (max_bpm == NULL) {
        goto fail;
    }
    int higher = max_bpm == Py_None ? 1 : PyObject_RichCompareBool(top, max_bpm, Py_GT);
    if (higher < 0 || (higher && PyObject_SetAttrString(s, "max_bpm", top) < 0)) {
        goto fail;
    }
    seconds_at = PyObject_GetAttrString(s, "seconds_at");
    if (seconds_at == NULL) {
        goto fail;
    }
    if (!PyDict_Check(seconds_at)) {
        PyErr_SetString(PyExc_TypeError, "seconds_at must be a dict");
        goto fail;
    }
    if (min_span == first_span && first_span == max_span) {
        if (add_uniform(seconds_at, &st, first_span) < 0) {
            goto fail;
        }
    }
    else {
        for (Py_ssize_t i = 0; i < st.n; i++) {
            if (add_seconds(seconds_at, value_at(&st, i), span_at(&st, i)) < 0) {
                goto fail;
            }
        }
    }
    minutes = PyObject_GetAttrString(s, "minutes");
    if (minutes == NULL) {
        goto fail;
    }
    if (!PyList_Check(minutes)) {
        PyErr_SetString(PyExc_TypeError, "minutes must be a list");
        goto fail;
    }
    PyObject *current = PyObject_GetAttrString(b, "_minute");
    if (current == NULL) {
        goto fail;
    }
    minute = fold_minutes(&st, current, minutes, minute_type);
    Py_DECREF(current);
    if (minute == NULL || PyObject_SetAttrString(b, "_minute", minute) < 0) {
        goto fail;
    }
    Py_DECREF(s);
    Py_DECREF(seconds_at);
    Py_DECREF(minutes);
    Py_DECREF(minute);
    Py_DECREF(max_bpm);
    Py_RETURN_TRUE;
fail:
    Py_DECREF(s);
    Py_XDECREF(seconds_at);
    Py_XDECREF(minutes);
    Py_XDECREF(minute);
    Py_XDECREF(max_bpm);
    return NULL;
}

static PyMethodDef methods[] = {
    {"fold_plain", (PyCFunction)(void (*)(void))fold_plain, METH_FASTCALL,
     "C twin of hrviz.core.insights.batch.fold_plain: the same arguments and results; None when the "
     "readings are not all floats (the Python function folds those)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cfold", "C twin of hrviz.core.insights.batch.fold_plain.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__cfold(void)
{
    return PyModuleDef_Init(&module);
}
