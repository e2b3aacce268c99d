/* The detector's calm path in C: the twin of the first branch of Detector._consume
 * (hrviz/core/detector.py), for ingest's (ts, bpm) columns.
 *
 * An ordinary reading (on the rhythm, near the level, nothing open) only gets book-kept; in Python
 * that bookkeeping is most of the detector's CPU time. calm() runs such readings from two
 * array('d') columns until the first one that is not calm (or `stop`), and hands back where it
 * stopped and the state the Python loop keeps in local variables. Every decision stays in Python
 * (Detector._step); the caller extends the batch, the level and the runs from the columns itself
 * (hrviz/core/columns.py). The cadence retune every RETUNE steps is done here when it is the
 * ordinary one (hrviz/core/cadence.py: Cadence.retune, then note() extending the current
 * segment); anything else (a NaN in the window, a new segment, the first estimate) is left to the
 * Python methods, called from here, so the results are bit-identical by construction.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define RETUNE 16 /* cadence.RETUNE */
#define WINDOW 32 /* cadence.WINDOW */
#define SEGMENT_FACTOR 4.0 /* cadence.SEGMENT_FACTOR */
#define GAP_FACTOR 4.0 /* cadence.GAP_FACTOR */
#define GAP_STEPS 10.0 /* cadence.GAP_STEPS */
#define RUNS_MAX 64 /* the most run lengths the caller may keep (Detector._runs.maxlen is 32) */

/* The cadence's lists as C arrays while a calm run lasts; written back to the Python lists at the
 * end, or before a Python method that reads them is called. */
typedef struct {
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

static int get_double(PyObject *obj, const char *name, double *out)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (v == NULL)
        return -1;
    *out = PyFloat_AsDouble(v);
    Py_DECREF(v);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    int rc = value == NULL ? -1 : PyObject_SetAttrString(obj, name, value);
    Py_XDECREF(value);
    return rc;
}

static PyObject *get_list(PyObject *obj, const char *name)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (v != NULL && !PyList_Check(v)) {
        PyErr_Format(PyExc_TypeError, "cadence.%s is not a list", name);
        Py_CLEAR(v);
    }
    return v;
}

/* Reads cad.steps (fewer than RETUNE, as the Python loop keeps them), the last WINDOW steps of cad.window. */
static int cad_load(Cad *c)
{
    PyObject *steps = get_list(c->cad, "steps");
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
    PyObject *window = get_list(c->cad, "window");
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
    return get_double(c->cad, "missing_after", &c->missing_after);
}

static int replace_list(PyObject *obj, const char *name, const double *values, Py_ssize_t n)
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
        if (PyObject_SetAttrString(c->cad, "step", c->step) < 0 || PyObject_SetAttrString(c->cad, "usual", c->usual) < 0
            || PyObject_SetAttrString(c->cad, "missing_after", c->missing_after_obj) < 0
            || PyObject_SetAttrString(c->cad, "gap_after", c->gap_after) < 0)
            return -1;
        Py_CLEAR(c->step);
        Py_CLEAR(c->usual);
        Py_CLEAR(c->missing_after_obj);
        Py_CLEAR(c->gap_after);
    }
    if (c->seg != NULL && set_attr(c->seg, "end", PyFloat_FromDouble(c->seg_end)) < 0)
        return -1;
    if (c->window_dirty) {
        if (replace_list(c->cad, "window", c->window, c->nwindow) < 0
            || replace_list(c->cad, "steps", c->steps, c->nsteps) < 0)
            return -1;
        c->window_dirty = 0;
    } else if (c->nsteps > c->synced_steps) {
        PyObject *steps = get_list(c->cad, "steps");
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
        PyObject *segments = get_list(c->cad, "segments");
        if (segments == NULL)
            return -1;
        Py_ssize_t n = PyList_GET_SIZE(segments);
        c->seg = n ? PyList_GET_ITEM(segments, n - 1) : NULL;
        Py_XINCREF(c->seg);
        Py_DECREF(segments);
        if (c->seg == NULL)
            return 0;
        if (get_double(c->seg, "start", &c->seg_start) < 0 || get_double(c->seg, "end", &c->seg_end) < 0
            || get_double(c->seg, "step", &c->seg_step) < 0 || (c->seg_steps = get_list(c->seg, "steps")) == NULL
            || (c->seg_usuals = get_list(c->seg, "usuals")) == NULL) {
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

static int call_method(PyObject *obj, const char *name, double ts)
{
    PyObject *r = PyObject_CallMethod(obj, name, "d", ts);
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
        if (cad_store(c) < 0 || call_method(c->cad, "retune", ts) < 0)
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
    if (cad_store(c) < 0 || call_method(c->cad, "note", ts) < 0)
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

PyDoc_STRVAR(calm_doc,
    "calm(ts, bpm, start, stop, cadence, last, lo, hi, fb, fs, fe, fc, low, high, delta, flat_short, keep_runs)\n"
    "--\n\n"
    "Book-keep the calm readings ts[start:stop] / bpm[start:stop] as Detector._consume does, up to the\n"
    "first one that is not calm. Returns (stopped_at, lo, hi, fb, fs, fe, fc, runs): the detector's new\n"
    "level bounds and current run of identical values, and the last keep_runs run lengths closed\n"
    "meanwhile (oldest first). The cadence object is updated in place.");

static PyObject *calm(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 17) {
        PyErr_Format(PyExc_TypeError, "calm() takes 17 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_buffer tsv, bpmv;
    if (column(args[0], &tsv) < 0)
        return NULL;
    if (column(args[1], &bpmv) < 0) {
        PyBuffer_Release(&tsv);
        return NULL;
    }
    PyObject *result = NULL;
    Cad c = {.cad = args[4]};
    double last, lo, hi, fb = 0.0, fs, fe, low, high, delta;
    int has_fb = args[8] != Py_None, new_run = 0;
    Py_ssize_t start = PyLong_AsSsize_t(args[2]), stop = PyLong_AsSsize_t(args[3]);
    long long fc = PyLong_AsLongLong(args[11]), flat_short = PyLong_AsLongLong(args[15]);
    Py_ssize_t keep = PyLong_AsSsize_t(args[16]);
    if (PyErr_Occurred() || as_double(args[5], &last) < 0 || as_double(args[6], &lo) < 0
        || as_double(args[7], &hi) < 0 || (has_fb && as_double(args[8], &fb) < 0) || as_double(args[9], &fs) < 0
        || as_double(args[10], &fe) < 0 || as_double(args[12], &low) < 0 || as_double(args[13], &high) < 0
        || as_double(args[14], &delta) < 0)
        goto done;
    Py_ssize_t n = tsv.len / (Py_ssize_t)sizeof(double);
    if (bpmv.len != tsv.len || start < 0 || stop > n || keep < 0 || keep > RUNS_MAX) {
        PyErr_SetString(PyExc_ValueError, "calm(): columns of different lengths, or start/stop/keep_runs out of range");
        goto done;
    }
    if (get_double(c.cad, "missing_factor", &c.missing_factor) < 0 || get_double(c.cad, "max_fill", &c.max_fill) < 0
        || cad_load(&c) < 0)
        goto done;
    const double *ts = tsv.buf, *bpm = bpmv.buf;
    long long runs[RUNS_MAX];
    Py_ssize_t nruns = 0; /* run lengths closed, the last `keep` of them in a ring */
    Py_ssize_t i = start;
    for (; i < stop; i++) {
        double t = ts[i], b = bpm[i], step = t - last;
        /* the very conditions of the Python loop, in its order (all False for NaN) */
        if (!(low <= b && b <= high && 0 < step && step <= c.missing_after && b - lo < delta && hi - b < delta
              && fc < flat_short))
            break;
        if (has_fb && b == fb) {
            fe = t;
            fc++;
        } else {
            if (fc && keep)
                runs[nruns++ % keep] = fc;
            fb = b, fs = fe = t, fc = 1;
            has_fb = new_run = 1;
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
    if (cad_store(&c) < 0)
        goto done;
    Py_ssize_t kept = nruns < keep ? nruns : keep;
    PyObject *closed = PyTuple_New(kept);
    if (closed == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < kept; k++) {
        PyObject *v = PyLong_FromLongLong(runs[(nruns - kept + k) % keep]);
        if (v == NULL) {
            Py_DECREF(closed);
            goto done;
        }
        PyTuple_SET_ITEM(closed, k, v);
    }
    /* an unchanged run keeps its objects (None, or whatever the Python path had put there) */
    if (new_run)
        result = Py_BuildValue("ndddddLN", i, lo, hi, fb, fs, fe, fc, closed);
    else
        result = Py_BuildValue("nddOOdLN", i, lo, hi, args[8], args[9], fe, fc, closed);
done:
    cad_clear(&c);
    PyBuffer_Release(&tsv);
    PyBuffer_Release(&bpmv);
    return result;
}

static PyMethodDef methods[] = {
    {"calm", (PyCFunction)(void (*)(void))calm, METH_FASTCALL, calm_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cdetect", "The detector's calm path (see hrviz/core/columns.py).", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__cdetect(void) { return PyModule_Create(&module); }
