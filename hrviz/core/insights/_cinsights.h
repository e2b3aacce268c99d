/* What both insights kernels need (_cfold.c, _cinline.c): Python's float % 60.0, and
 * "x += delta" on a builder's attribute or a dict's value, as the Python fold writes them. */
#ifndef HRVIZ_CINSIGHTS_H
#define HRVIZ_CINSIGHTS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* Python's float % 60.0 (floatobject.c float_rem): the remainder takes the divisor's sign. */
static inline double
mod60(double x)
{
    double mod = fmod(x, 60.0);
    if (mod != 0.0) { /* true for NaN, as in Python */
        if (mod < 0) {
            mod += 60.0;
        }
    }
    else {
        mod = 0.0;
    }
    return mod;
}

/* seconds_at[key] = seconds_at.get(key, 0.0) + add */
static inline int
add_seconds(PyObject *seconds_at, PyObject *key, double add)
{
    PyObject *old = PyDict_GetItemWithError(seconds_at, key); /* borrowed */
    PyObject *sum;
    if (old == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        sum = PyFloat_FromDouble(0.0 + add);
    }
    else if (PyFloat_CheckExact(old)) {
        sum = PyFloat_FromDouble(PyFloat_AS_DOUBLE(old) + add);
    }
    else {
        PyObject *d = PyFloat_FromDouble(add);
        if (d == NULL) {
            return -1;
        }
        sum = PyNumber_Add(old, d);
        Py_DECREF(d);
    }
    if (sum == NULL) {
        return -1;
    }
    int rc = PyDict_SetItem(seconds_at, key, sum);
    Py_DECREF(sum);
    return rc;
}

/* obj.name = obj.name + delta */
static inline int
add_attr(PyObject *obj, const char *name, PyObject *delta)
{
    PyObject *old = PyObject_GetAttrString(obj, name);
    if (old == NULL) {
        return -1;
    }
    PyObject *sum = PyNumber_Add(old, delta);
    Py_DECREF(old);
    if (sum == NULL) {
        return -1;
    }
    int rc = PyObject_SetAttrString(obj, name, sum);
    Py_DECREF(sum);
    return rc;
}

static inline int
add_attr_double(PyObject *obj, const char *name, double delta)
{
    PyObject *d = PyFloat_FromDouble(delta);
    if (d == NULL) {
        return -1;
    }
    int rc = add_attr(obj, name, d);
    Py_DECREF(d);
    return rc;
}

static inline int
add_attr_ssize(PyObject *obj, const char *name, Py_ssize_t delta)
{
    PyObject *d = PyLong_FromSsize_t(delta);
    if (d == NULL) {
        return -1;
    }
    int rc = add_attr(obj, name, d);
    Py_DECREF(d);
    return rc;
}

#endif
