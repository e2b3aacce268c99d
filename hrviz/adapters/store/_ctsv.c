/* The LOAD DATA text of a ReadingBatch, built in C: the twin of rows.tsv_python (rows.py), which
 * stays the reference and gives the very same bytes.
 *
 * Why: ``seq\tts\tbpm\tfilled\tkinds\n`` a reading, a million times, is mostly repr() of two floats
 * and str() of an int in Python; here every line is written straight into one buffer.
 *
 * The kernel only does the plain case and answers None for anything else (an item that is not a
 * float, a mark that is not (bool, tuple of ASCII str) at an offset in the batch, a seq past
 * int64), so the caller runs the Python code, which then gives its usual result or error.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#include "../_cbuf.h"

/* The "filled\tkinds" of each marked reading, by offset (NULL: a plain reading, "0\t").
 * 0, 1 (not the plain case), -1. */
static int collect_marks(PyObject *marks, Py_ssize_t n, PyObject **tails) {
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
        PyObject *flag = PyTuple_GET_ITEM(value, 0), *kinds = PyTuple_GET_ITEM(value, 1);
        if (i < 0 || i >= n || !PyBool_Check(flag) || !PyTuple_CheckExact(kinds))
            return 1;
        Py_ssize_t k = PyTuple_GET_SIZE(kinds), len = k ? 1 + k : 2; /* "1\t" and k - 1 commas */
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *kind = PyTuple_GET_ITEM(kinds, j);
            if (!PyUnicode_CheckExact(kind) || !PyUnicode_IS_ASCII(kind))
                return 1;
            len += PyUnicode_GET_LENGTH(kind);
        }
        PyObject *tail = PyBytes_FromStringAndSize(NULL, len);
        if (tail == NULL)
            return -1;
        char *p = PyBytes_AS_STRING(tail);
        *p++ = flag == Py_True ? '1' : '0';
        *p++ = '\t';
        for (Py_ssize_t j = 0; j < k; j++) { /* ",".join(kinds) */
            PyObject *kind = PyTuple_GET_ITEM(kinds, j);
            if (j)
                *p++ = ',';
            memcpy(p, PyUnicode_DATA(kind), (size_t)PyUnicode_GET_LENGTH(kind));
            p += PyUnicode_GET_LENGTH(kind);
        }
        Py_XSETREF(tails[i], tail);
    }
    return 0;
}

static PyObject *tsv(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *first_obj, *ts_list, *bpm_list, *marks;
    if (!PyArg_ParseTuple(args, "OO!O!O!", &first_obj, &PyList_Type, &ts_list, &PyList_Type, &bpm_list,
                          &PyDict_Type, &marks))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(ts_list);
    int overflow = 0;
    long long first = PyLong_Check(first_obj) ? PyLong_AsLongLongAndOverflow(first_obj, &overflow) : 0;
    if (first == -1 && PyErr_Occurred())
        return NULL;
    if (!PyLong_Check(first_obj) || overflow || first > LLONG_MAX - n || PyList_GET_SIZE(bpm_list) != n)
        Py_RETURN_NONE;

    PyObject *result = NULL, **tails = NULL;
    Buf b = {NULL, 0, 0};
    int rc = 0;
    if (PyDict_GET_SIZE(marks)) {
        if ((tails = PyMem_Calloc((size_t)n + 1, sizeof(PyObject *))) == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        if ((rc = collect_marks(marks, n, tails)) != 0)
            goto done;
    }
    if (reserve(&b, n * 40 + 1) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ts = PyList_GET_ITEM(ts_list, i), *bpm = PyList_GET_ITEM(bpm_list, i);
        if (!PyFloat_CheckExact(ts) || !PyFloat_CheckExact(bpm)) {
            rc = 1;
            goto done;
        }
        PyObject *tail = tails != NULL ? tails[i] : NULL;
        /* seq 21, two floats 32 each, four tabs, a newline, "0" */
        if (reserve(&b, 100 + (tail != NULL ? PyBytes_GET_SIZE(tail) : 0)) < 0)
            goto done;
        put_int(&b, first + i);
        b.p[b.n++] = '\t';
        if (put_double(&b, PyFloat_AS_DOUBLE(ts)) < 0)
            goto done;
        b.p[b.n++] = '\t';
        if (put_double(&b, PyFloat_AS_DOUBLE(bpm)) < 0)
            goto done;
        b.p[b.n++] = '\t';
        if (tail != NULL)
            put(&b, PyBytes_AS_STRING(tail), PyBytes_GET_SIZE(tail));
        else
            put(&b, "0\t", 2);
        b.p[b.n++] = '\n';
    }
    result = PyBytes_FromStringAndSize(b.p, b.n);
done:
    if (rc == 1 && !PyErr_Occurred())
        result = Py_NewRef(Py_None);
    if (tails != NULL)
        for (Py_ssize_t i = 0; i < n; i++)
            Py_XDECREF(tails[i]);
    PyMem_Free(tails);
    PyMem_Free(b.p);
    return result;
}

static PyMethodDef methods[] = {
    {"tsv", tsv, METH_VARARGS,
     "tsv(first_seq, ts, bpm, marks) -> bytes | None: rows.tsv_lines's bytes, None if not the plain case."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ctsv", "C twin of hrviz.adapters.store.rows.tsv_lines.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__ctsv(void) { return PyModuleDef_Init(&module); }
