"""libgrade_rt through ctypes, shared by the benchmark drivers
(bench/peers/peers.py, bench/gpu.py): tensors, sessions, graphs, libraries.
Call init(build) first."""
import ctypes
import os
import sys

import numpy as np

F32, F64, I64 = 1, 2, 4


class Tensor(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.c_int64 * 8), ("data", ctypes.c_void_p)]


P = ctypes.c_void_p
RT = None
_SIGNATURES = (
        ("grade_status_message", [P], ctypes.c_char_p),
        ("grade_status_free", [P], None),
        ("grade_tensor_create", [ctypes.c_int32, ctypes.c_int32,
                                 ctypes.POINTER(ctypes.c_int64),
                                 ctypes.POINTER(ctypes.POINTER(Tensor))], P),
        ("grade_tensor_free", [ctypes.POINTER(Tensor)], None),
        ("grade_graph_create_edges", [ctypes.c_int64, ctypes.c_int64, P, P, P,
                                      ctypes.POINTER(P)], P),
        ("grade_graph_free", [P], None),
        ("grade_library_load", [ctypes.c_char_p, ctypes.POINTER(P)], P),
        ("grade_session_create", [P, ctypes.POINTER(P)], P),
        ("grade_session_free", [P], None),
        ("grade_session_set_threads", [P, ctypes.c_int32], P),
        ("grade_session_bind_graph", [P, P], P),
        ("grade_session_bind", [P, ctypes.c_char_p, ctypes.POINTER(Tensor)], P),
        ("grade_session_initialize", [P], P),
        ("grade_session_integrate", [P, ctypes.c_double, ctypes.c_double, P, P], P),
        ("grade_session_step", [P, ctypes.c_double], P),
        ("grade_session_read", [P, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.POINTER(Tensor))], P),
        ("grade_session_eval_rhs_into", [P, ctypes.c_double,
                                         ctypes.POINTER(ctypes.POINTER(Tensor))], P),
        ("grade_session_set_device", [P, ctypes.c_char_p], P),
        ("grade_session_set_reorder", [P, ctypes.c_int32], P),
        ("grade_session_reorder", [P], ctypes.c_int32),
        ("grade_reorder_name", [ctypes.c_int32], ctypes.c_char_p),
        ("grade_session_time", [P], ctypes.c_double),
        ("grade_cuda_device_count", [ctypes.POINTER(ctypes.c_int32)], P))


def init(build):
    """Loads build/lib/libgrade_rt.so and declares the functions used."""
    global RT
    RT = ctypes.CDLL(os.path.join(build, "lib", "libgrade_rt.so"))
    for name, args, res in _SIGNATURES:
        fn = getattr(RT, name)
        fn.argtypes, fn.restype = args, res
    return RT


def ok(status):
    if status:
        message = RT.grade_status_message(status).decode()
        RT.grade_status_free(status)
        sys.exit("libgrade_rt: " + message)


def tensor(array):
    """A grade tensor holding a copy of the array (C order)."""
    array = np.ascontiguousarray(array)
    dtype = {np.float32: F32, np.float64: F64, np.int64: I64}[array.dtype.type]
    shape = (ctypes.c_int64 * 8)(*array.shape)
    out = ctypes.POINTER(Tensor)()
    ok(RT.grade_tensor_create(dtype, array.ndim, shape, ctypes.byref(out)))
    ctypes.memmove(out.contents.data, array.ctypes.data, array.nbytes)
    return out


def view(t, dtype, shape):
    """The tensor's data as a NumPy array (no copy; valid while t lives)."""
    count = int(np.prod(shape))
    buf = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(
        t.contents.data)
    return np.frombuffer(buf, dtype=dtype).reshape(shape)


# grade_reorder_t
REORDER_AUTO, REORDER_NONE, REORDER_RCM, REORDER_DEGREE = 0, 1, 2, 3


class Session:
    def __init__(self, lib, graph, bindings, threads, device=None,
                 reorder=REORDER_AUTO):
        self.s = P()
        ok(RT.grade_session_create(lib, ctypes.byref(self.s)))
        if device:
            ok(RT.grade_session_set_device(self.s, device.encode()))
        ok(RT.grade_session_set_threads(self.s, threads))
        ok(RT.grade_session_set_reorder(self.s, reorder))
        ok(RT.grade_session_bind_graph(self.s, graph))
        self.bound = []
        for name, array in bindings.items():
            t = tensor(array)
            ok(RT.grade_session_bind(self.s, name.encode(), t))
            self.bound.append(t)
        ok(RT.grade_session_initialize(self.s))

    def rhs_into(self, outs):
        ok(RT.grade_session_eval_rhs_into(self.s, 0.0, outs))

    def read(self, name, dtype, shape):
        out = ctypes.POINTER(Tensor)()
        ok(RT.grade_session_read(self.s, name.encode(), ctypes.byref(out)))
        value = view(out, dtype, shape).copy()
        RT.grade_tensor_free(out)
        return value


def load(path):
    lib = P()
    ok(RT.grade_library_load(path.encode(), ctypes.byref(lib)))
    return lib



def grade_graph(n, src, dst, w=None):
    g = P()
    src = np.ascontiguousarray(src, dtype=np.int64)
    dst = np.ascontiguousarray(dst, dtype=np.int64)
    wp = None
    if w is not None:
        w = np.ascontiguousarray(w, dtype=np.float64)
        wp = w.ctypes.data
    ok(RT.grade_graph_create_edges(n, len(src), src.ctypes.data, dst.ctypes.data,
                                   wp, ctypes.byref(g)))
    return g
