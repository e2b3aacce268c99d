/* C twin of hrviz.core.insights.batch.fold_inline (read that first: it is the reference).
 *
 * The per-reading loop the batch fold falls back to when an episode or an effort starts or ends
 * in a stretch, or a gap is in it (about a sixth of a 1M-reading ingest). The bookkeeping of every
 * reading (covered seconds, seconds per value, the clock minute, a run or an effort in progress
 * that the reading extends) is done here in C; whenever a run or an effort could start or end, the
 * builder's _track and _track_effort decide, and on a gap its _fold: they are called back exactly
 * when the Python loop calls them, with the same arguments, so those rules stay in summary.py.
 *
 * Same results to the bit: the same float additions in the same order; the minute in progress is
 * kept in C variables and written back to its object before anything could read it (a callback
 * that reads it, the next minute, the end, an exception), so every object ends as Python leaves
 * it, even when a callback raises. Anything that is not a float where Python's loop would only
 * see floats is handed back (None, nothing changed) to the Python function.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#include "_cinsights.h"

/* The minute in progress: its object, and its fields while this loop changes them. */
typedef struct {
    PyObject *obj; /* owned; NULL when the builder has no minute yet */
    double start, seconds, total;
    Py_ssize_t count;
    PyObject *low, *high; /* owned */
} Minute;

static void
minute_clear(Minute *m)
{
    Py_CLEAR(m->obj);
    Py_CLEAR(m->low);
    Py_CLEAR(m->high);
}

static int
float_attr(PyObject *obj, const char *name, PyObject **out)
{
    *out = PyObject_GetAttrString(obj, name);
    if (*out == NULL) {
        return -1;
    }
    return PyFloat_CheckExact(*out) ? 0 : 1;
}

/* Take `obj` (None or a Minute) as the minute in progress: 0, -1 on error, 1 when its fields are
 * not what Minute(start) and these folds ever give it (a float start, seconds, total, low and high
 * and an int count): then the caller lets Python do it, or raises. */
static int
minute_load(Minute *m, PyObject *obj)
{
    minute_clear(m);
    if (obj == Py_None) {
        return 0;
    }
    PyObject *start = NULL, *seconds = NULL, *total = NULL, *count = NULL;
    int rc = -1;
    int bad = float_attr(obj, "start", &start);
    if (bad == 0) {
        bad = float_attr(obj, "seconds", &seconds);
    }
    if (bad == 0) {
        bad = float_attr(obj, "total", &total);
    }
    if (bad == 0) {
        bad = float_attr(obj, "low", &m->low);
    }
    if (bad == 0) {
        bad = float_attr(obj, "high", &m->high);
    }
    if (bad == 0) {
        count = PyObject_GetAttrString(obj, "count");
        bad = count == NULL ? -1 : PyLong_CheckExact(count) ? 0 : 1;
    }
    if (bad == 0) {
        m->count = PyLong_AsSsize_t(count);
        if (m->count == -1 && PyErr_Occurred()) {
            bad = -1;
        }
    }
    if (bad != 0) {
        Py_CLEAR(m->low);
        Py_CLEAR(m->high);
        rc = bad;
        goto done;
    }
    m->start = PyFloat_AS_DOUBLE(start);
    m->seconds = PyFloat_AS_DOUBLE(seconds);
    m->total = PyFloat_AS_DOUBLE(total);
    m->obj = Py_NewRef(obj);
    rc = 0;
done:
    Py_XDECREF(start);
    Py_XDECREF(seconds);
    Py_XDECREF(total);
    Py_XDECREF(count);
    return rc;
}

/* Write the C fields back to the minute's object. */
static int
minute_store(const Minute *m)
{
    if (m->obj == NULL) {
        return 0;
    }
    PyObject *count = PyLong_FromSsize_t(m->count);
    PyObject *seconds = PyFloat_FromDouble(m->seconds);
    PyObject *total = PyFloat_FromDouble(m->total);
    int rc = -1;
    if (count != NULL && seconds != NULL && total != NULL && PyObject_SetAttrString(m->obj, "count", count) == 0
        && PyObject_SetAttrString(m->obj, "seconds", seconds) == 0
        && PyObject_SetAttrString(m->obj, "total", total) == 0 && PyObject_SetAttrString(m->obj, "low", m->low) == 0
        && PyObject_SetAttrString(m->obj, "high", m->high) == 0) {
        rc = 0;
    }
    Py_XDECREF(count);
    Py_XDECREF(seconds);
    Py_XDECREF(total);
    return rc;
}

/* *slot = value, or NULL for None (value: a new reference, or NULL on error: then -1). */
static int
keep(PyObject **slot, PyObject *value)
{
    if (value == NULL) {
        return -1;
    }
    if (value == Py_None) {
        Py_DECREF(value);
        value = NULL;
    }
    Py_XSETREF(*slot, value);
    return 0;
}

/* Is builder attribute `name` not None? -1 on error. */
static int
attr_set(PyObject *obj, const char *name)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (v == NULL) {
        return -1;
    }
    int set = v != Py_None;
    Py_DECREF(v);
    return set;
}

static PyObject *
reading(PyObject *reading_type, Py_ssize_t seq, PyObject *ts, PyObject *bpm)
{
    PyObject *s = PyLong_FromSsize_t(seq);
    if (s == NULL) {
        return NULL;
    }
    PyObject *args[3] = {s, ts, bpm};
    PyObject *r = PyObject_Vectorcall(reading_type, args, 3, NULL);
    Py_DECREF(s);
    return r;
}

/* Everything the loop holds; one place to release it. */
typedef struct {
    PyObject *s, *prev, *seconds_at, *runs, *high, *low, *effort_bpm, *max_bpm, *minutes;
    PyObject *track, *track_effort, *fold, *high_key, *low_key;
    PyObject *pt, *pb, *top, *dt; /* owned: the previous reading's ts and bpm, the highest value, its span */
    PyObject *run[2], *effort;     /* owned: runs["high"], runs["low"], b._effort; NULL for None */
    PyObject *end, *out_since, *count, *peak, *last_measured; /* attribute names, interned */
    Minute m;
} Loop;

static void
loop_clear(Loop *l)
{
    PyObject **all[] = {&l->s, &l->prev, &l->seconds_at, &l->runs, &l->high, &l->low, &l->effort_bpm,
                        &l->max_bpm, &l->minutes, &l->track, &l->track_effort, &l->fold, &l->high_key,
                        &l->low_key, &l->pt, &l->pb, &l->top, &l->dt, &l->run[0], &l->run[1], &l->effort,
                        &l->end, &l->out_since, &l->count, &l->peak, &l->last_measured};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        Py_CLEAR(*all[i]);
    }
    minute_clear(&l->m);
}

static inline void
replace(PyObject **slot, PyObject *value)
{
    Py_INCREF(value);
    Py_XSETREF(*slot, value);
}

/* run.end, run.out_since = end, None (out_since: NULL for an effort, which has none to clear);
 * run.count += 1 (not for an effort); run.peak = max(run.peak, bpm) (min: `higher` 0);
 * run.last_measured = bpm (an effort) -- the lines of _track and _track_effort that extend a
 * run in progress, and of fold_inline that do it in their place. */
static int
extend(Loop *l, PyObject *run, double end, PyObject *bpm, int higher, int effort)
{
    PyObject *e = PyFloat_FromDouble(end);
    if (e == NULL) {
        return -1;
    }
    int rc = PyObject_SetAttr(run, l->end, e);
    Py_DECREF(e);
    if (rc < 0 || (!effort && PyObject_SetAttr(run, l->out_since, Py_None) < 0)) {
        return -1;
    }
    if (!effort) {
        PyObject *count = PyObject_GetAttr(run, l->count);
        if (count == NULL) {
            return -1;
        }
        PyObject *one = PyLong_FromLong(1);
        PyObject *more = one == NULL ? NULL : PyNumber_Add(count, one);
        Py_DECREF(count);
        Py_XDECREF(one);
        if (more == NULL) {
            return -1;
        }
        rc = PyObject_SetAttr(run, l->count, more);
        Py_DECREF(more);
        if (rc < 0) {
            return -1;
        }
    }
    PyObject *peak = PyObject_GetAttr(run, l->peak);
    if (peak == NULL) {
        return -1;
    }
    int better = PyObject_RichCompareBool(bpm, peak, higher ? Py_GT : Py_LT);
    Py_DECREF(peak);
    if (better < 0 || (better && PyObject_SetAttr(run, l->peak, bpm) < 0)) {
        return -1;
    }
    return effort ? PyObject_SetAttr(run, l->last_measured, bpm) : 0;
}

/* top = s.max_bpm if s.max_bpm is not None else float("-inf") */
static int
load_top(Loop *l)
{
    PyObject *max_bpm = PyObject_GetAttrString(l->s, "max_bpm");
    if (max_bpm == NULL) {
        return -1;
    }
    if (max_bpm == Py_None) {
        Py_DECREF(max_bpm);
        max_bpm = PyFloat_FromDouble(-INFINITY);
        if (max_bpm == NULL) {
            return -1;
        }
    }
    else if (!PyFloat_CheckExact(max_bpm)) { /* checked on entry; only a callback could break it */
        Py_DECREF(max_bpm);
        PyErr_SetString(PyExc_TypeError, "max_bpm is not a float");
        return -1;
    }
    Py_XSETREF(l->top, max_bpm);
    return 0;
}

static PyObject *
fold_inline(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "fold_inline takes 9 arguments");
        return NULL;
    }
    PyObject *b = args[0], *ts = args[1], *bpm = args[2], *reading_type = args[7], *minute_type = args[8];
    Py_ssize_t lo = PyLong_AsSsize_t(args[3]), hi = PyLong_AsSsize_t(args[4]), first = PyLong_AsSsize_t(args[5]);
    if ((lo == -1 || hi == -1 || first == -1) && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyList_CheckExact(ts) || !PyList_CheckExact(bpm) || !PyFloat_CheckExact(args[6]) || lo < 0 || hi < lo
        || hi > PyList_GET_SIZE(ts) || hi > PyList_GET_SIZE(bpm)) {
        Py_RETURN_NONE;
    }
    for (Py_ssize_t i = lo; i < hi; i++) {
        if (!PyFloat_CheckExact(PyList_GET_ITEM(ts, i)) || !PyFloat_CheckExact(PyList_GET_ITEM(bpm, i))) {
            Py_RETURN_NONE;
        }
    }
    double cap = PyFloat_AS_DOUBLE(args[6]);
    Loop l = {0};
    PyObject *result = NULL;
    Py_ssize_t readings = 0; /* s.readings += 1 per reading, written back with everything else */
    double covered = 0.0, total = 0.0;
    Py_ssize_t count = 0;

#define GET(field, obj, name)                            \
    if ((l.field = PyObject_GetAttrString(obj, name)) == NULL) \
        goto fail;
    GET(s, b, "s")
    GET(prev, b, "_prev")
    GET(pt, l.prev, "ts")
    GET(pb, l.prev, "bpm")
    GET(seconds_at, l.s, "seconds_at")
    GET(runs, b, "_runs")
    GET(high, b, "high")
    GET(low, b, "low")
    GET(effort_bpm, b, "effort_bpm")
    GET(max_bpm, l.s, "max_bpm")
    GET(minutes, l.s, "minutes")
    GET(track, b, "_track")
    GET(track_effort, b, "_track_effort")
    GET(fold, b, "_fold")
#undef GET
    if (!PyFloat_CheckExact(l.pt) || !PyFloat_CheckExact(l.pb) || !PyDict_Check(l.seconds_at)
        || !PyList_Check(l.minutes) || !PyFloat_CheckExact(l.high) || !PyFloat_CheckExact(l.low)
        || (l.effort_bpm != Py_None && !PyFloat_CheckExact(l.effort_bpm))
        || (l.max_bpm != Py_None && !PyFloat_CheckExact(l.max_bpm))) {
        loop_clear(&l);
        Py_RETURN_NONE;
    }
    PyObject *minute = PyObject_GetAttrString(b, "_minute");
    if (minute == NULL) {
        goto fail;
    }
    int loaded = minute_load(&l.m, minute);
    Py_DECREF(minute);
    if (loaded != 0) {
        loop_clear(&l);
        return loaded < 0 ? NULL : Py_NewRef(Py_None);
    }
    /* nothing has changed so far: from here on, Python's loop would have done the same */
    l.high_key = PyUnicode_InternFromString("high");
    l.low_key = PyUnicode_InternFromString("low");
    l.end = PyUnicode_InternFromString("end");
    l.out_since = PyUnicode_InternFromString("out_since");
    l.count = PyUnicode_InternFromString("count");
    l.peak = PyUnicode_InternFromString("peak");
    l.last_measured = PyUnicode_InternFromString("last_measured");
    if (l.high_key == NULL || l.low_key == NULL || l.end == NULL || l.out_since == NULL || l.count == NULL
        || l.peak == NULL || l.last_measured == NULL || load_top(&l) < 0) {
        goto fail;
    }
    double high = PyFloat_AS_DOUBLE(l.high), low = PyFloat_AS_DOUBLE(l.low);
    int efforts = l.effort_bpm != Py_None; /* no maximum: no efforts, whatever the value */
    double effort_bpm = efforts ? PyFloat_AS_DOUBLE(l.effort_bpm) : 0.0;
    int pending = 0; /* b._pending is not None; l.run[], l.effort: the runs in progress. Only the
                        builder's methods change which they are: read again after each call of one */
#define REFRESH_RUN(c)                                                          \
    if (keep(&l.run[c], PyObject_GetItem(l.runs, c == 0 ? l.high_key : l.low_key)) < 0) \
        goto fail;
#define REFRESH_EFFORT()                                                                  \
    if (efforts) {                                                                        \
        if (keep(&l.effort, PyObject_GetAttrString(b, "_effort")) < 0                     \
            || (pending = attr_set(b, "_pending")) < 0)                                   \
            goto fail;                                                                    \
    }
    REFRESH_RUN(0)
    REFRESH_RUN(1)
    REFRESH_EFFORT()

    for (Py_ssize_t i = lo; i < hi; i++) {
        PyObject *t_obj = PyList_GET_ITEM(ts, i), *v_obj = PyList_GET_ITEM(bpm, i);
        double pt = PyFloat_AS_DOUBLE(l.pt), pb = PyFloat_AS_DOUBLE(l.pb);
        double dt = PyFloat_AS_DOUBLE(t_obj) - pt;
        if (dt > cap || l.m.obj == NULL) { /* a gap, or no minute yet: the builder's own path */
            PyObject *max_bpm = PyObject_GetAttrString(l.s, "max_bpm");
            if (max_bpm == NULL) {
                goto fail;
            }
            PyObject *new_max = count || max_bpm != Py_None ? l.top : Py_None;
            Py_DECREF(max_bpm);
            int failed = add_attr_ssize(l.s, "readings", readings) < 0 || minute_store(&l.m) < 0
                         || PyObject_SetAttrString(b, "_minute", l.m.obj ? l.m.obj : Py_None) < 0
                         || PyObject_SetAttrString(l.s, "max_bpm", new_max) < 0
                         || add_attr_double(l.s, "covered_s", covered) < 0 || add_attr_double(l.s, "measured_s", covered) < 0
                         || add_attr_double(l.s, "total_bpm", total) < 0 || add_attr_ssize(l.s, "count_bpm", count) < 0;
            readings = 0;
            if (failed) {
                goto fail;
            }
            minute_clear(&l.m); /* written back; _fold may change it: it is read again after */
            covered = total = 0.0;
            count = 0;
            PyObject *r = reading(reading_type, first + i - 1, l.pt, l.pb);
            if (r == NULL || PyObject_SetAttrString(b, "_prev", r) < 0) {
                Py_XDECREF(r);
                goto fail;
            }
            Py_DECREF(r);
            r = reading(reading_type, first + i, t_obj, v_obj);
            if (r == NULL) {
                goto fail;
            }
            PyObject *done = PyObject_CallOneArg(l.fold, r);
            Py_DECREF(r);
            if (done == NULL) {
                goto fail;
            }
            Py_DECREF(done);
            minute = PyObject_GetAttrString(b, "_minute");
            if (minute == NULL) {
                goto fail;
            }
            loaded = minute_load(&l.m, minute);
            Py_DECREF(minute);
            if (loaded != 0) {
                if (loaded > 0) {
                    PyErr_SetString(PyExc_TypeError, "the builder's minute does not hold floats");
                }
                goto fail;
            }
            if (load_top(&l) < 0) {
                goto fail;
            }
            replace(&l.pt, t_obj);
            replace(&l.pb, v_obj);
            REFRESH_RUN(0)
            REFRESH_RUN(1)
            REFRESH_EFFORT()
            continue;
        }
        /* the previous reading was plain and measured, and stood for dt seconds */
        readings++;
        covered += dt;
        if (add_seconds(l.seconds_at, l.pb, dt) < 0) {
            goto fail;
        }
        total += pb;
        count++;
        if (pb > PyFloat_AS_DOUBLE(l.top)) {
            replace(&l.top, l.pb);
        }
        double start = pt - mod60(pt);
        if (l.m.start != start) {
            PyObject *start_obj = PyFloat_FromDouble(start);
            if (start_obj == NULL || minute_store(&l.m) < 0 || PyList_Append(l.minutes, l.m.obj) < 0) {
                Py_XDECREF(start_obj);
                goto fail;
            }
            minute = PyObject_CallOneArg(minute_type, start_obj);
            Py_DECREF(start_obj);
            if (minute == NULL) {
                minute_clear(&l.m); /* appended and stored: nothing of it is left to write */
                goto fail;
            }
            loaded = minute_load(&l.m, minute);
            Py_DECREF(minute);
            if (loaded != 0) {
                if (loaded > 0) {
                    PyErr_SetString(PyExc_TypeError, "Minute(start) does not hold floats");
                }
                goto fail;
            }
        }
        l.m.count++;
        l.m.seconds += dt;
        l.m.total += pb;
        if (pb < PyFloat_AS_DOUBLE(l.m.low)) {
            replace(&l.m.low, l.pb);
        }
        if (pb > PyFloat_AS_DOUBLE(l.m.high)) {
            replace(&l.m.high, l.pb);
        }
        /* a run or an effort in progress that this reading extends is extended here, as fold_inline
         * does; the builder's _track and _track_effort decide whenever one could start or end */
        Py_CLEAR(l.dt);
        for (int c = 0; c < 3; c++) {
            int inside = c == 0 ? pb > high : c == 1 ? pb < low : pb >= effort_bpm;
            PyObject *run = c < 2 ? l.run[c] : l.effort;
            if (c == 2 && !efforts) {
                break;
            }
            if (run != NULL && inside && (c < 2 || !pending)) {
                if (extend(&l, run, pt + dt, l.pb, c != 1, c == 2) < 0) {
                    goto fail;
                }
                continue;
            }
            if (run == NULL && !inside && (c < 2 || !pending)) {
                continue;
            }
            if (l.dt == NULL && (l.dt = PyFloat_FromDouble(dt)) == NULL) {
                goto fail;
            }
            PyObject *done;
            if (c < 2) { /* b._track(kind, inside, pt, dt, pb) */
                PyObject *a[5] = {c == 0 ? l.high_key : l.low_key, inside ? Py_True : Py_False, l.pt, l.dt, l.pb};
                done = PyObject_Vectorcall(l.track, a, 5, NULL);
            }
            else { /* b._track_effort(pt, dt, pb) */
                PyObject *a[3] = {l.pt, l.dt, l.pb};
                done = PyObject_Vectorcall(l.track_effort, a, 3, NULL);
            }
            if (done == NULL) {
                goto fail;
            }
            Py_DECREF(done);
            if (c == 0) {
                REFRESH_RUN(0)
            }
            else if (c == 1) {
                REFRESH_RUN(1)
            }
            else {
                REFRESH_EFFORT()
            }
        }
        replace(&l.pt, t_obj);
        replace(&l.pb, v_obj);
    }
#undef REFRESH_RUN
#undef REFRESH_EFFORT
    {
        int failed = add_attr_ssize(l.s, "readings", readings) < 0;
        readings = 0;
        if (failed || add_attr_double(l.s, "covered_s", covered) < 0 || add_attr_double(l.s, "measured_s", covered) < 0
            || add_attr_double(l.s, "total_bpm", total) < 0 || add_attr_ssize(l.s, "count_bpm", count) < 0
            || (count && PyObject_SetAttrString(l.s, "max_bpm", l.top) < 0) || minute_store(&l.m) < 0
            || PyObject_SetAttrString(b, "_minute", l.m.obj ? l.m.obj : Py_None) < 0
            || PyObject_SetAttrString(l.s, "last_ts", l.pt) < 0) {
            goto fail;
        }
        PyObject *r = reading(reading_type, first + hi - 1, l.pt, l.pb);
        if (r == NULL || PyObject_SetAttrString(b, "_prev", r) < 0) {
            Py_XDECREF(r);
            goto fail;
        }
        Py_DECREF(r);
    }
    result = Py_NewRef(Py_True);
    loop_clear(&l);
    return result;
fail:
    /* leave what Python's loop would have left: the readings counted, the minute's fields */
    if (l.s != NULL) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        if (readings && add_attr_ssize(l.s, "readings", readings) < 0) {
            PyErr_Clear();
        }
        if (minute_store(&l.m) < 0) {
            PyErr_Clear();
        }
        PyErr_Restore(type, value, traceback);
    }
    loop_clear(&l);
    return NULL;
}

static PyMethodDef methods[] = {
    {"fold_inline", (PyCFunction)(void (*)(void))fold_inline, METH_FASTCALL,
     "C twin of hrviz.core.insights.batch.fold_inline: the same arguments and results; None when the "
     "readings or the builder's figures are not floats (the Python function folds those)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cinline", "C twin of hrviz.core.insights.batch.fold_inline.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__cinline(void)
{
    return PyModuleDef_Init(&module);
}
