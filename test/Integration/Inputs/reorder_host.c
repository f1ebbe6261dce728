/* A C host of two compiled models (Inputs/reorder.grade with --jvp, and
 * heat for crank_nicolson, which has the Jacobian diagonal) that calls the
 * session's evaluation API in the caller's order and reordered: eval_rhs,
 * eval_rhs_into, eval_jvp (tangents in, products out), the Jacobian
 * diagonal and the spectral radius must agree with --reorder none to
 * 1e-12 relative. The graph is a 12 x 10 grid with one diagonal per cell
 * (one way), its nodes renumbered by i -> 37 i + 11 mod 120 and its edges
 * given in a scrambled order with weights.
 *
 * usage: reorder_host LIBCHECK LIBHEAT_CN */
#include "grade/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { R = 12, C = 10, N = R * C, MAX_EDGES = 4 * N + N };

static void check(grade_status_t status, const char *what) {
  if (status) {
    printf("FAIL %s: %s\n", what, grade_status_message(status));
    exit(1);
  }
}

static int64_t gSrc[MAX_EDGES], gDst[MAX_EDGES];
static double gWeight[MAX_EDGES];
static int64_t gEdges;

static grade_graph_t *makeGraph(void) {
  int64_t src[MAX_EDGES], dst[MAX_EDGES], e = 0;
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      int u = r * C + c;
      if (c + 1 < C) {
        src[e] = u, dst[e++] = u + 1;
        src[e] = u + 1, dst[e++] = u;
      }
      if (r + 1 < R) {
        src[e] = u, dst[e++] = u + C;
        src[e] = u + C, dst[e++] = u;
      }
      if (r + 1 < R && c + 1 < C)
        src[e] = u, dst[e++] = u + C + 1;
    }
  /* An edge order k -> a k mod E with a coprime to E. */
  int64_t a = 7;
  for (;;) {
    int64_t x = a, y = e;
    while (y) {
      int64_t t = x % y;
      x = y, y = t;
    }
    if (x == 1)
      break;
    ++a;
  }
  for (int64_t k = 0; k < e; ++k) {
    int64_t from = (a * k) % e;
    gSrc[k] = (37 * src[from] + 11) % N;
    gDst[k] = (37 * dst[from] + 11) % N;
    gWeight[k] = 0.5 + (double)(k % 7) / 7.0;
  }
  gEdges = e;
  grade_graph_t *graph = NULL;
  check(grade_graph_create_edges(N, e, gSrc, gDst, gWeight, &graph), "graph");
  return graph;
}

static grade_tensor_t *filled(int32_t rank, int64_t rows, int64_t width,
                              double phase) {
  int64_t shape[2] = {rows, width};
  grade_tensor_t *t = NULL;
  check(grade_tensor_create(GRADE_DTYPE_F64, rank, shape, &t), "tensor");
  double *data = t->data;
  for (int64_t k = 0; k < rows * (rank > 1 ? width : 1); ++k)
    data[k] = sin(0.37 * (double)k + phase) + 0.25 * cos(1.3 * (double)k);
  return t;
}

/* Largest |a - b| over the largest |a|. */
static double relative(const grade_tensor_t *a, const grade_tensor_t *b) {
  int64_t n = grade_tensor_numel(a);
  if (n != grade_tensor_numel(b))
    return INFINITY;
  double scale = 0, diff = 0;
  const double *x = a->data, *y = b->data;
  for (int64_t k = 0; k < n; ++k) {
    scale = fmax(scale, fabs(x[k]));
    diff = fmax(diff, fabs(x[k] - y[k]));
  }
  return scale > 0 ? diff / scale : diff;
}

static int failed;

static void report(const char *method, const char *what, double err) {
  int ok = err <= 1e-12;
  failed |= !ok;
  printf("%s %s %s: relative difference %.1e (bound 1e-12)\n",
         ok ? "ok" : "FAIL", method, what, err);
}

/* The three states of reorder.grade: x (node), v (node, 3), g (edge). */
static grade_tensor_t *states(int64_t which, double phase) {
  return which == 0   ? filled(1, N, 1, phase)
         : which == 1 ? filled(2, N, 3, phase)
                      : filled(1, gEdges, 1, phase);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: reorder_host LIBCHECK LIBHEAT_CN\n");
    return 2;
  }
  grade_library_t *check_lib = NULL, *heat_lib = NULL;
  check(grade_library_load(argv[1], &check_lib), argv[1]);
  check(grade_library_load(argv[2], &heat_lib), argv[2]);
  grade_graph_t *graph = makeGraph();
  const int32_t methods[3] = {GRADE_REORDER_NONE, GRADE_REORDER_RCM,
                              GRADE_REORDER_DEGREE};
  grade_tensor_t *base[6] = {0};
  double baseRho = 0;
  for (int m = 0; m < 3; ++m) {
    const char *name = grade_reorder_name(methods[m]);
    /* The model with node and edge states. */
    grade_session_t *s = NULL;
    check(grade_session_create(check_lib, &s), "session");
    check(grade_session_set_reorder(s, methods[m]), "set_reorder");
    check(grade_session_bind_graph(s, graph), "bind_graph");
    if (grade_session_reorder(s) != methods[m]) {
      printf("FAIL %s: the session runs in order %s\n", name,
             grade_reorder_name(grade_session_reorder(s)));
      return 1;
    }
    grade_tensor_t *x0 = filled(1, N, 1, 0.1), *v0 = filled(2, N, 3, 0.2),
                   *a = filled(1, gEdges, 1, 0.3);
    check(grade_session_bind(s, "x0", x0), "x0");
    check(grade_session_bind(s, "v0", v0), "v0");
    check(grade_session_bind(s, "a", a), "a");
    check(grade_session_initialize(s), "initialize");
    grade_tensor_t *rhs[3] = {0}, *into[3], *tangent[3], *jvp[3];
    for (int k = 0; k < 3; ++k) {
      into[k] = states(k, 9.0);
      tangent[k] = states(k, 1.5 + k);
      jvp[k] = states(k, 7.0);
    }
    check(grade_session_eval_rhs(s, 0.05, rhs), "eval_rhs");
    check(grade_session_eval_rhs_into(s, 0.05, into), "eval_rhs_into");
    check(grade_session_eval_jvp(s, 0.05, tangent, jvp), "eval_jvp");
    double rho = 0;
    check(grade_session_spectral_radius(s, 0.0, 50, &rho), "spectral radius");
    if (m == 0) {
      for (int k = 0; k < 3; ++k)
        base[k] = rhs[k], base[3 + k] = jvp[k];
      baseRho = rho;
    } else {
      static const char *const what[3] = {"x", "v", "g"};
      char label[64];
      for (int k = 0; k < 3; ++k) {
        snprintf(label, sizeof label, "eval_rhs d%s/dt", what[k]);
        report(name, label, relative(base[k], rhs[k]));
        snprintf(label, sizeof label, "eval_rhs_into d%s/dt", what[k]);
        report(name, label, relative(base[k], into[k]));
        snprintf(label, sizeof label, "eval_jvp %s", what[k]);
        report(name, label, relative(base[3 + k], jvp[k]));
        grade_tensor_free(rhs[k]);
        grade_tensor_free(jvp[k]);
      }
      report(name, "spectral radius", fabs(rho - baseRho) / baseRho);
    }
    for (int k = 0; k < 3; ++k) {
      grade_tensor_free(into[k]);
      grade_tensor_free(tangent[k]);
    }
    grade_tensor_free(x0);
    grade_tensor_free(v0);
    grade_tensor_free(a);
    grade_session_free(s);

    /* Heat with crank_nicolson: the Jacobian diagonal, then two implicit
     * steps (Newton-Krylov on the states in the session's order). */
    grade_session_t *h = NULL;
    check(grade_session_create(heat_lib, &h), "heat session");
    check(grade_session_set_reorder(h, methods[m]), "heat set_reorder");
    check(grade_session_bind_graph(h, graph), "heat bind_graph");
    grade_tensor_t *hx0 = filled(1, N, 1, 0.4), *diag[1], *hx = NULL;
    diag[0] = filled(1, N, 1, 3.0);
    check(grade_session_bind(h, "x0", hx0), "heat x0");
    check(grade_session_initialize(h), "heat initialize");
    check(grade_session_eval_jacobian_diagonal(h, 0.0, diag), "diagonal");
    check(grade_session_integrate(h, 0.2, 0.1, NULL, NULL), "heat integrate");
    check(grade_session_read(h, "x", &hx), "heat read");
    static grade_tensor_t *baseDiag, *baseX;
    if (m == 0) {
      baseDiag = diag[0], baseX = hx;
    } else {
      report(name, "heat jacobian diagonal", relative(baseDiag, diag[0]));
      report(name, "heat crank_nicolson x", relative(baseX, hx));
      grade_tensor_free(diag[0]);
      grade_tensor_free(hx);
    }
    grade_tensor_free(hx0);
    grade_session_free(h);
  }
  printf("%s\n", failed ? "FAILED" : "all agree");
  return failed;
}
