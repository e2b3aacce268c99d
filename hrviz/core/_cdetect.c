/* The detector's calm path in C: the twin of the first branch of Detector._consume
 * (hrviz/core/detector.py), for ingest's (ts, bpm) columns (driven by hrviz/core/columns.py).
 *
 * An ordinary reading (on the rhythm, near the level, nothing open) only gets book-kept; in Python
 * that bookkeeping is most of the detector's CPU time. calm() runs such readings from two
 * array('d') columns until the first one that is not calm (or `stop`), appends them to the batch's
 * lists and leaves the detector as the Python loop would: its run of identical values, level
 * bounds, level and run history, seq. Every decision stays in Python (Detector._step). Two more
 * things are done here because they decide nothing in their ordinary case: the cadence retune every
 * RETUNE steps (hrviz/core/cadence.py: Cadence.retune, then note() extending the current segment;
 * a NaN in the window, a new segment or the first estimate are left to those Python methods, called
 * from here), and a reading that continues or ends a long run of one value when no run can be a
 * flatline yet and the level, taken afresh, is not left (what _step does with it then).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <string.h>

#define RETUNE 16 /* cadence.RETUNE */
#define WINDOW 32 /* cadence.WINDOW */
#define SEGMENT_FACTOR 4.0 /* cadence.SEGMENT_FACTOR */
#define GAP_FACTOR 4.0 /* cadence.GAP_FACTOR */
#define GAP_STEPS 10.0 /* cadence.GAP_STEPS */
#define RUNS_MAX 64 /* the most run lengths kept (Detector._runs.maxlen is 32) */
#define LEVEL_MAX 64 /* the longest level followed here (Detector._level.maxlen is level_readings, 5) */

/* Attribute names, interned once per module (its state) rather than made from C strings per call. */
#define NAMES(X)                                                                                                      \
    X(steps) X(window) X(missing_after) X(missing_factor) X(max_fill) X(segments) X(step) X(usual) X(gap_after)       \
    X(retune) X(note) X(start) X(end) X(usuals) X(_last) X(_seq) X(_fill) X(_lo) X(_hi) X(_flat_bpm)                  \
    X(_flat_start) X(_flat_end) X(_flat_count) X(cadence) X(_level) X(_runs) X(maxlen) X(extend) X(_min_level)
#define AS_ENUM(name) N_##name,
enum { NAMES(AS_ENUM) N_COUNT };
#define AS_TEXT(name) #name,
static const char *const NAME_TEXT[N_COUNT] = {NAMES(AS_TEXT)};
typedef struct {
    PyObject *name[N_COUNT];
} State;
#define NAME(st, n) ((st)->name[N_##n])

/* The cadence's lists as C arrays while a calm run lasts; written back to the Python lists at the
 * end, or before a Python method that reads them is called. */
typedef struct {
    State *st;
    PyObject *cad;
    double steps[RETUNE];
    Py_ssize_t nsteps;
    Py_ssize_t synced_steps; /* steps[:synced_steps] are already in cad.steps */
    double window[WINDOW + RETUNE];
    Py_ssize_t nwindow;
    int window_dirty; /* cad.window (and cad.steps) must be rewritten whole */
    double missing_factor, max_fill, missing_after;
    /* the estimates of the last retune done here, written to cad at the end (nothing reads them meanwhile) */
    PyObject *step, *usual, *missing_after_obj, *gap_after;
    /* the segment the ordinary retunes extend: its lists are appended to at once, its end set at the end */
    PyObject *seg, *seg_steps, *seg_usuals;
    double seg_start, seg_step, seg_end;
} Cad;

static int get_double(PyObject *obj, PyObject *name, double *out)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL)
        return -1;
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int set_attr(PyObject *obj, PyObject *name, PyObject *value)
{
    int rc = value == NULL ? -1 : PyObject_SetAttr(obj, name, value);
    Py_XDECREF(value);
    return rc;
}

static PyObject *get_list(PyObject *obj, PyObject *name)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v != NULL && !PyList_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%U is not a list", name);
        Py_CLEAR(v);
    }
    return v;
}

/* Reads cad.steps (fewer than RETUNE, as the Python loop keeps them), the last WINDOW steps of cad.window. */
static int cad_load(Cad *c)
{
    PyObject *steps = get_list(c->cad, NAME(c->st, steps));
    if (steps == NULL)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(steps);
    if (n >= RETUNE) {
        Py_DECREF(steps);
        PyErr_SetString(PyExc_ValueError, "cadence.steps holds a full retune: not a state the detector makes");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        c->steps[i] = PyFloat_AsDouble(PyList_GET_ITEM(steps, i));
        if (c->steps[i] == -1.0 && PyErr_Occurred()) {
            Py_DECREF(steps);
            return -1;
        }
    }
    Py_DECREF(steps);
    c->nsteps = c->synced_steps = n;
    PyObject *window = get_list(c->cad, NAME(c->st, window));
    if (window == NULL)
        return -1;
    n = PyList_GET_SIZE(window);
    Py_ssize_t first = n > WINDOW ? n - WINDOW : 0; /* retune keeps only the last WINDOW anyway */
    for (Py_ssize_t i = first; i < n; i++) {
        double v = PyFloat_AsDouble(PyList_GET_ITEM(window, i));
        if (v == -1.0 && PyErr_Occurred()) {
            Py_DECREF(window);
            return -1;
        }
        c->window[i - first] = v;
    }
    Py_DECREF(window);
    c->nwindow = n - first;
    c->window_dirty = 0;
    return get_double(c->cad, NAME(c->st, missing_after), &c->missing_after);
}

static int replace_list(PyObject *obj, PyObject *name, const double *values, Py_ssize_t n)
{
    PyObject *fresh = PyList_New(n);
    if (fresh == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyFloat_FromDouble(values[i]);
        if (v == NULL) {
            Py_DECREF(fresh);
            return -1;
        }
        PyList_SET_ITEM(fresh, i, v);
    }
    PyObject *list = get_list(obj, name);
    /* in place: the list object is the same one others may hold */
    int rc = list == NULL ? -1 : PyList_SetSlice(list, 0, PY_SSIZE_T_MAX, fresh);
    Py_XDECREF(list);
    Py_DECREF(fresh);
    return rc;
}

static void cad_forget_segment(Cad *c)
{
    Py_CLEAR(c->seg);
    Py_CLEAR(c->seg_steps);
    Py_CLEAR(c->seg_usuals);
}

static void cad_clear(Cad *c)
{
    cad_forget_segment(c);
    Py_CLEAR(c->step);
    Py_CLEAR(c->usual);
    Py_CLEAR(c->missing_after_obj);
    Py_CLEAR(c->gap_after);
}

/* Makes the cadence what the C side says: its lists, estimates and thresholds, its segment's end. */
static int cad_store(Cad *c)
{
    if (c->step != NULL) {
        if (PyObject_SetAttr(c->cad, NAME(c->st, step), c->step) < 0
            || PyObject_SetAttr(c->cad, NAME(c->st, usual), c->usual) < 0
            || PyObject_SetAttr(c->cad, NAME(c->st, missing_after), c->missing_after_obj) < 0
            || PyObject_SetAttr(c->cad, NAME(c->st, gap_after), c->gap_after) < 0)
            return -1;
        Py_CLEAR(c->step);
        Py_CLEAR(c->usual);
        Py_CLEAR(c->missing_after_obj);
        Py_CLEAR(c->gap_after);
    }
    if (c->seg != NULL && set_attr(c->seg, NAME(c->st, end), PyFloat_FromDouble(c->seg_end)) < 0)
        return -1;
    if (c->window_dirty) {
        if (replace_list(c->cad, NAME(c->st, window), c->window, c->nwindow) < 0
            || replace_list(c->cad, NAME(c->st, steps), c->steps, c->nsteps) < 0)
            return -1;
        c->window_dirty = 0;
    } else if (c->nsteps > c->synced_steps) {
        PyObject *steps = get_list(c->cad, NAME(c->st, steps));
        if (steps == NULL)
            return -1;
        for (Py_ssize_t i = c->synced_steps; i < c->nsteps; i++) {
            PyObject *v = PyFloat_FromDouble(c->steps[i]);
            int rc = v == NULL ? -1 : PyList_Append(steps, v);
            Py_XDECREF(v);
            if (rc < 0) {
                Py_DECREF(steps);
                return -1;
            }
        }
        Py_DECREF(steps);
    }
    c->synced_steps = c->nsteps;
    return 0;
}

/* Python's max(a, b): the first unless the second is greater (so NaN behaves the same). */
static double py_max(double a, double b) { return b > a ? b : a; }

/* The ordinary end of Cadence.note(ts): the current segment keeps its rhythm and is extended.
 * Returns 1 when done, 0 when note() must decide in Python (no segment, first estimate, new rhythm). */
static int note_ordinary(Cad *c, double ts, PyObject *step, PyObject *usual)
{
    if (c->seg == NULL) { /* the first retune of this call: find the segment */
        PyObject *segments = get_list(c->cad, NAME(c->st, segments));
        if (segments == NULL)
            return -1;
        Py_ssize_t n = PyList_GET_SIZE(segments);
        c->seg = n ? PyList_GET_ITEM(segments, n - 1) : NULL;
        Py_XINCREF(c->seg);
        Py_DECREF(segments);
        if (c->seg == NULL)
            return 0;
        if (get_double(c->seg, NAME(c->st, start), &c->seg_start) < 0
            || get_double(c->seg, NAME(c->st, end), &c->seg_end) < 0
            || get_double(c->seg, NAME(c->st, step), &c->seg_step) < 0
            || (c->seg_steps = get_list(c->seg, NAME(c->st, steps))) == NULL
            || (c->seg_usuals = get_list(c->seg, NAME(c->st, usuals))) == NULL) {
            cad_forget_segment(c);
            return -1;
        }
    }
    double ratio = c->seg_step > 0 ? PyFloat_AS_DOUBLE(step) / c->seg_step : SEGMENT_FACTOR;
    if (c->seg_start == c->seg_end || !(1 / SEGMENT_FACTOR < ratio && ratio < SEGMENT_FACTOR))
        return 0;
    if (PyList_Append(c->seg_steps, step) < 0 || PyList_Append(c->seg_usuals, usual) < 0)
        return -1;
    c->seg_end = ts;
    return 1;
}

static int call_method(PyObject *obj, PyObject *name, double ts)
{
    PyObject *arg = PyFloat_FromDouble(ts);
    PyObject *r = arg == NULL ? NULL : PyObject_CallMethodOneArg(obj, name, arg);
    Py_XDECREF(arg);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* Cadence.retune(ts), with cad.steps holding RETUNE new steps. */
static int retune(Cad *c, double ts)
{
    int nan = 0;
    for (Py_ssize_t i = 0; i < c->nwindow; i++)
        nan |= c->window[i] != c->window[i];
    for (Py_ssize_t i = 0; i < c->nsteps; i++)
        nan |= c->steps[i] != c->steps[i];
    if (nan) { /* sorting NaN is Python's own business: let Python do all of it */
        if (cad_store(c) < 0 || call_method(c->cad, NAME(c->st, retune), ts) < 0)
            return -1;
        cad_forget_segment(c);
        return cad_load(c);
    }
    memcpy(c->window + c->nwindow, c->steps, (size_t)c->nsteps * sizeof(double));
    c->nwindow += c->nsteps;
    c->nsteps = c->synced_steps = 0;
    if (c->nwindow > WINDOW) {
        memmove(c->window, c->window + c->nwindow - WINDOW, WINDOW * sizeof(double));
        c->nwindow = WINDOW;
    }
    c->window_dirty = 1;
    double ordered[WINDOW];
    Py_ssize_t n = c->nwindow;
    for (Py_ssize_t i = 0; i < n; i++) { /* insertion sort: at most 32 values, no NaN */
        double v = c->window[i];
        Py_ssize_t j = i;
        for (; j > 0 && ordered[j - 1] > v; j--)
            ordered[j] = ordered[j - 1];
        ordered[j] = v;
    }
    Py_ssize_t upper = (Py_ssize_t)((double)n * 0.9);
    double step = ordered[n / 2], usual = ordered[upper < n - 1 ? upper : n - 1];
    double missing_after = py_max(c->missing_factor * step, 1.5 * usual);
    double gap_after = py_max(py_max(py_max(c->max_fill, missing_after), GAP_FACTOR * usual), GAP_STEPS * step);
    Py_XSETREF(c->step, PyFloat_FromDouble(step));
    Py_XSETREF(c->usual, PyFloat_FromDouble(usual));
    Py_XSETREF(c->missing_after_obj, PyFloat_FromDouble(missing_after));
    Py_XSETREF(c->gap_after, PyFloat_FromDouble(gap_after));
    if (c->step == NULL || c->usual == NULL || c->missing_after_obj == NULL || c->gap_after == NULL)
        return -1;
    c->missing_after = missing_after;
    int rc = note_ordinary(c, ts, c->step, c->usual);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    /* note() decides in Python, from the cadence as it is now; it may change the segments */
    if (cad_store(c) < 0 || call_method(c->cad, NAME(c->st, note), ts) < 0)
        return -1;
    cad_forget_segment(c);
    return 0;
}

static int column(PyObject *obj, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->format == NULL || strcmp(view->format, "d") != 0 || view->itemsize != sizeof(double)) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "calm() takes array('d') columns");
        return -1;
    }
    return 0;
}

static int as_double(PyObject *obj, double *out)
{
    *out = PyFloat_AsDouble(obj);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* A deque's maxlen (None: -1). */
static Py_ssize_t maxlen(State *st, PyObject *deque)
{
    PyObject *v = PyObject_GetAttr(deque, NAME(st, maxlen));
    if (v == NULL)
        return -2;
    Py_ssize_t n = v == Py_None ? -1 : PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return n == -1 && PyErr_Occurred() ? -2 : n;
}

static int append_floats(PyObject *list, const double *values, Py_ssize_t n)
{
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "calm(): the batch's columns must be lists");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyFloat_FromDouble(values[i]);
        int rc = v == NULL ? -1 : PyList_Append(list, v);
        Py_XDECREF(v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* deque.extend(values) */
static int extend(State *st, PyObject *deque, PyObject *values)
{
    if (values == NULL)
        return -1;
    PyObject *r = PyObject_CallMethodOneArg(deque, NAME(st, extend), values);
    Py_DECREF(values);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

static PyObject *floats_tuple(const double *values, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t != NULL && i < n; i++) {
        PyObject *v = PyFloat_FromDouble(values[i]);
        if (v == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* Everything the detector keeps between calm readings, as C values for the length of one call. */
typedef struct {
    double last, lo, hi, fb, fs, fe;
    int has_fb, new_run;
    Py_ssize_t seq;
    long long fc, runs[RUNS_MAX];
    Py_ssize_t nruns, keep, level_keep; /* run lengths closed (the last `keep` in a ring); level maxlen, or -1 */
    PyObject *level, *runs_deque;
    /* the level's values, oldest first, in a ring: read from the deque only once a long run needs them */
    double lv[LEVEL_MAX];
    Py_ssize_t lv_n, lv_head, min_level;
    int lv_loaded;
} Det;

static void level_push(Det *d, double v)
{
    if (d->lv_n < d->level_keep) {
        d->lv[(d->lv_head + d->lv_n++) % d->level_keep] = v;
    } else {
        d->lv[d->lv_head] = v;
        d->lv_head = (d->lv_head + 1) % d->level_keep;
    }
}

/* The level as the deque holds it plus the readings already done in this call (bpm[start:i]); 0 if it
 * is not one this ring can follow (then Python decides). */
static int level_load(State *st, PyObject *det, Det *d, const double *bpm, Py_ssize_t start, Py_ssize_t i)
{
    if (d->level_keep < 1 || d->level_keep > LEVEL_MAX)
        return 0;
    PyObject *min_level = PyObject_GetAttr(det, NAME(st, _min_level));
    if (min_level == NULL)
        return -1;
    d->min_level = PyLong_AsSsize_t(min_level);
    Py_DECREF(min_level);
    if (d->min_level == -1 && PyErr_Occurred())
        return -1;
    PyObject *values = PySequence_Fast(d->level, "the level is not a sequence");
    if (values == NULL)
        return -1;
    for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(values); k++) {
        double v = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(values, k));
        if (v == -1.0 && PyErr_Occurred()) {
            Py_DECREF(values);
            return -1;
        }
        level_push(d, v);
    }
    Py_DECREF(values);
    for (Py_ssize_t k = start; k < i; k++)
        level_push(d, bpm[k]);
    d->lv_loaded = 1;
    return 1;
}

static int det_load(State *st, PyObject *det, Det *d, Cad *c)
{
    PyObject *v[8];
    static const int which[8] = {N__last, N__seq, N__lo, N__hi, N__flat_bpm, N__flat_start, N__flat_end, N__flat_count};
    int rc = -1;
    memset(v, 0, sizeof v);
    for (int k = 0; k < 8; k++)
        if ((v[k] = PyObject_GetAttr(det, st->name[which[k]])) == NULL)
            goto done;
    d->has_fb = v[4] != Py_None;
    d->seq = PyLong_AsSsize_t(v[1]);
    d->fc = PyLong_AsLongLong(v[7]);
    if ((d->seq == -1 || d->fc == -1) && PyErr_Occurred())
        goto done;
    if (as_double(v[0], &d->last) < 0 || as_double(v[2], &d->lo) < 0 || as_double(v[3], &d->hi) < 0
        || (d->has_fb && as_double(v[4], &d->fb) < 0) || as_double(v[5], &d->fs) < 0 || as_double(v[6], &d->fe) < 0)
        goto done;
    if ((c->cad = PyObject_GetAttr(det, NAME(st, cadence))) == NULL
        || (d->level = PyObject_GetAttr(det, NAME(st, _level))) == NULL
        || (d->runs_deque = PyObject_GetAttr(det, NAME(st, _runs))) == NULL)
        goto done;
    d->level_keep = maxlen(st, d->level);
    d->keep = maxlen(st, d->runs_deque);
    if (d->level_keep == -2 || d->keep == -2)
        goto done;
    if (d->keep < 0 || d->keep > RUNS_MAX) {
        PyErr_Format(PyExc_ValueError, "calm(): the runs' deque keeps at most %d (maxlen %zd)", RUNS_MAX, d->keep);
        goto done;
    }
    rc = 0;
done:
    for (int k = 0; k < 8; k++)
        Py_XDECREF(v[k]);
    return rc;
}

/* What Detector._save, and the Python loop's appends, would have left after ts[start:stop]. */
static int det_store(State *st, PyObject *det, Det *d, const double *ts, const double *bpm, Py_ssize_t start,
                     Py_ssize_t stop, PyObject *out_ts, PyObject *out_bpm)
{
    Py_ssize_t n = stop - start, level_n = d->level_keep >= 0 && d->level_keep < n ? d->level_keep : n;
    Py_ssize_t kept = d->nruns < d->keep ? d->nruns : d->keep;
    if (append_floats(out_ts, ts + start, n) < 0 || append_floats(out_bpm, bpm + start, n) < 0
        || extend(st, d->level, floats_tuple(bpm + stop - level_n, level_n)) < 0)
        return -1;
    PyObject *closed = PyTuple_New(kept);
    for (Py_ssize_t k = 0; closed != NULL && k < kept; k++) {
        PyObject *v = PyLong_FromLongLong(d->runs[(d->nruns - kept + k) % d->keep]);
        if (v == NULL)
            Py_CLEAR(closed);
        else
            PyTuple_SET_ITEM(closed, k, v);
    }
    if (extend(st, d->runs_deque, closed) < 0)
        return -1;
    PyObject *last = PyFloat_FromDouble(ts[stop - 1]);
    if (last == NULL)
        return -1;
    int rc = PyObject_SetAttr(det, NAME(st, _last), last) < 0 || PyObject_SetAttr(det, NAME(st, _flat_end), last) < 0
             || set_attr(det, NAME(st, _seq), PyLong_FromSsize_t(d->seq + n)) < 0
             || set_attr(det, NAME(st, _fill), PyFloat_FromDouble(bpm[stop - 1])) < 0
             || set_attr(det, NAME(st, _lo), PyFloat_FromDouble(d->lo)) < 0
             || set_attr(det, NAME(st, _hi), PyFloat_FromDouble(d->hi)) < 0
             || set_attr(det, NAME(st, _flat_count), PyLong_FromLongLong(d->fc)) < 0
             /* a run that goes on keeps its objects: only a new one is written */
             || (d->new_run && (set_attr(det, NAME(st, _flat_bpm), PyFloat_FromDouble(d->fb)) < 0
                                || set_attr(det, NAME(st, _flat_start), PyFloat_FromDouble(d->fs)) < 0))
        ? -1 : 0;
    Py_DECREF(last);
    return rc;
}

PyDoc_STRVAR(calm_doc,
    "calm(detector, ts, bpm, start, stop, batch_ts, batch_bpm, limits)\n"
    "--\n\n"
    "Book-keep the calm readings ts[start:stop] / bpm[start:stop] (array('d') columns) as the first branch\n"
    "of Detector._consume does, up to the first one that is not calm; returns its index. The readings\n"
    "are appended to the lists batch_ts and batch_bpm; the detector and its cadence are left as the\n"
    "Python loop leaves them. limits: (low, high, delta, flatline_readings, flatline_seconds) of its config.\n"
    "The caller\n"
    "has checked that the detector is calm (nothing open) and has a last reading.");

static PyObject *calm(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "calm() takes 8 arguments (%zd given)", nargs);
        return NULL;
    }
    State *st = PyModule_GetState(module);
    PyObject *det = args[0], *limits = args[7];
    Py_buffer tsv, bpmv;
    if (column(args[1], &tsv) < 0)
        return NULL;
    if (column(args[2], &bpmv) < 0) {
        PyBuffer_Release(&tsv);
        return NULL;
    }
    PyObject *result = NULL;
    Cad c = {.st = st};
    Det d = {.nruns = 0};
    double low, high, delta, flat_seconds;
    long long flat_short, flat_readings;
    Py_ssize_t start = PyLong_AsSsize_t(args[3]), stop = PyLong_AsSsize_t(args[4]);
    if (PyErr_Occurred())
        goto done;
    if (!PyTuple_Check(limits) || PyTuple_GET_SIZE(limits) != 5) {
        PyErr_SetString(PyExc_TypeError, "calm(): limits is (low, high, delta, flatline_readings, flatline_seconds)");
        goto done;
    }
    int overflow;
    flat_readings = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(limits, 3), &overflow);
    if (overflow) /* beyond any run's length: compares as Python's int would */
        flat_readings = overflow > 0 ? LLONG_MAX : LLONG_MIN + 1;
    if ((flat_readings == -1 && PyErr_Occurred()) || as_double(PyTuple_GET_ITEM(limits, 0), &low) < 0
        || as_double(PyTuple_GET_ITEM(limits, 1), &high) < 0 || as_double(PyTuple_GET_ITEM(limits, 2), &delta) < 0
        || as_double(PyTuple_GET_ITEM(limits, 4), &flat_seconds) < 0)
        goto done;
    flat_short = flat_readings - 1; /* a run this long can not qualify with one more */
    Py_ssize_t n = tsv.len / (Py_ssize_t)sizeof(double);
    if (bpmv.len != tsv.len || start < 0 || stop > n) {
        PyErr_SetString(PyExc_ValueError, "calm(): columns of different lengths, or start/stop out of range");
        goto done;
    }
    if (det_load(st, det, &d, &c) < 0 || get_double(c.cad, NAME(st, missing_factor), &c.missing_factor) < 0
        || get_double(c.cad, NAME(st, max_fill), &c.max_fill) < 0 || cad_load(&c) < 0)
        goto done;
    const double *ts = tsv.buf, *bpm = bpmv.buf;
    double last = d.last, lo = d.lo, hi = d.hi, fb = d.fb, fe = d.fe;
    long long fc = d.fc;
    Py_ssize_t i = start;
    for (; i < stop; i++) {
        double t = ts[i], b = bpm[i], step = t - last;
        /* the very conditions of the Python loop, in its order (all False for NaN) */
        if (!(low <= b && b <= high && 0 < step && step <= c.missing_after && b - lo < delta && hi - b < delta))
            break;
        if (!(fc < flat_short)) {
            /* A long run of one value: the Python loop hands it to Detector._step, which decides nothing
             * when no run can be a flatline and the level, taken afresh, is not left (then it only
             * book-keeps, and tightens lo/hi to the level's). Anything else is left to it. */
            if (d.has_fb && b == fb ? !(fc + 1 < flat_readings || t - d.fs < flat_seconds)
                                    : (d.has_fb && !(fc < flat_readings || fe - d.fs < flat_seconds))
                                          || !(1 < flat_readings || 0.0 < flat_seconds))
                break;
            if (!d.lv_loaded) {
                int loaded = level_load(st, det, &d, bpm, start, i);
                if (loaded < 0)
                    goto done;
                if (!loaded)
                    break;
            }
            if (d.lv_n >= d.min_level) { /* min(level), max(level): the first of equals, as Python's */
                double mn = d.lv[d.lv_head], mx = mn;
                for (Py_ssize_t k = 1; k < d.lv_n; k++) {
                    double v = d.lv[(d.lv_head + k) % d.level_keep];
                    if (v < mn)
                        mn = v;
                    if (v > mx)
                        mx = v;
                }
                if (b - mn >= delta || mx - b >= delta)
                    break;
                lo = mn, hi = mx;
            }
        }
        if (d.lv_loaded)
            level_push(&d, b);
        if (d.has_fb && b == fb) {
            fe = t;
            fc++;
        } else {
            if (fc && d.keep)
                d.runs[d.nruns++ % d.keep] = fc;
            fb = b, d.fs = fe = t, fc = 1;
            d.has_fb = d.new_run = 1;
        }
        if (b < lo)
            lo = b;
        if (b > hi)
            hi = b;
        c.steps[c.nsteps++] = step;
        if (c.nsteps == RETUNE && retune(&c, t) < 0)
            goto done;
        last = t;
    }
    d.lo = lo, d.hi = hi, d.fb = fb, d.fe = fe, d.fc = fc;
    if (cad_store(&c) < 0 || (i > start && det_store(st, det, &d, ts, bpm, start, i, args[5], args[6]) < 0))
        goto done;
    result = PyLong_FromSsize_t(i);
done:
    cad_clear(&c);
    Py_XDECREF(c.cad);
    Py_XDECREF(d.level);
    Py_XDECREF(d.runs_deque);
    PyBuffer_Release(&tsv);
    PyBuffer_Release(&bpmv);
    return result;
}

static int traverse(PyObject *module, visitproc visit, void *arg)
{
    State *st = PyModule_GetState(module);
    for (int k = 0; st != NULL && k < N_COUNT; k++)
        Py_VISIT(st->name[k]);
    return 0;
}

static int clear(PyObject *module)
{
    State *st = PyModule_GetState(module);
    for (int k = 0; st != NULL && k < N_COUNT; k++)
        Py_CLEAR(st->name[k]);
    return 0;
}

static void free_module(void *module) { clear(module); }

static PyMethodDef methods[] = {
    {"calm", (PyCFunction)(void (*)(void))calm, METH_FASTCALL, calm_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_cdetect", "The detector's calm path (see hrviz/core/columns.py).", sizeof(State),
    methods, NULL, traverse, clear, free_module,
};

PyMODINIT_FUNC PyInit__cdetect(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    State *st = PyModule_GetState(module);
    for (int k = 0; k < N_COUNT; k++) {
        if ((st->name[k] = PyUnicode_InternFromString(NAME_TEXT[k])) == NULL) {
            Py_DECREF(module);
            return NULL;
        }
    }
    return module;
}
