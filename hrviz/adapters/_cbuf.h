/* A growing byte buffer and the number printers both print kernels use (_ctsv.c, _crecords.c):
 * str() of an int and repr() of a float, byte for byte what Python prints. */
#ifndef HRVIZ_CBUF_H
#define HRVIZ_CBUF_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t n, cap;
} Buf;

static inline int reserve(Buf *b, Py_ssize_t extra) {
    if (b->n + extra <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap * 2 > b->n + extra ? b->cap * 2 : b->n + extra;
    char *p = PyMem_Realloc(b->p, (size_t)cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Callers reserve first: the put_* helpers below never grow the buffer. */
static inline void put(Buf *b, const char *s, Py_ssize_t len) {
    memcpy(b->p + b->n, s, (size_t)len);
    b->n += len;
}

static inline void put_int(Buf *b, long long v) { /* str(v); 21 bytes at most */
    char tmp[24];
    int i = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[i++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        b->p[b->n++] = '-';
    while (i)
        b->p[b->n++] = tmp[--i];
}

/* repr(x), 32 bytes at most. A whole number under 1e16 is printed as an int plus ".0" (what repr's
 * shortest digits give, and 5x cheaper); everything else by CPython's own repr routine. */
static inline int put_double(Buf *b, double x) {
    if (fabs(x) < 1e16 && x == (double)(long long)x && !(x == 0.0 && signbit(x))) {
        put_int(b, (long long)x);
        put(b, ".0", 2);
        return 0;
    }
    char *s = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (s == NULL)
        return -1;
    put(b, s, (Py_ssize_t)strlen(s));
    PyMem_Free(s);
    return 0;
}

#endif
