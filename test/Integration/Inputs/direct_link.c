/* Links a generated library into a C program directly (no dlopen), using
 * the header from `gradec --emit=header`, and drives it through libgrade_rt
 * (linked shared or static): the C ABI as an embedding program sees it.
 * Heat on the path 0 - 1 - 2 (weights 1 and 2), then error handling. */
#include "heat.h"

#include "grade/runtime.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Prints the outcome of a call and frees its status. */
static void report(const char *what, grade_status_t status) {
  printf("%s: code %d: %s\n", what, (int)grade_status_code(status),
         grade_status_message(status));
  grade_status_free(status);
}

static grade_tensor_t *vector(int32_t dtype, int32_t rank, const int64_t *shape,
                              const double *values) {
  grade_tensor_t *tensor = NULL;
  grade_status_free(grade_tensor_create(dtype, rank, shape, &tensor));
  if (values)
    memcpy(tensor->data, values, (size_t)grade_tensor_numel(tensor) * 8);
  return tensor;
}

int main(void) {
  const grade_model_descriptor_t *desc = grade_heat_model_descriptor();
  printf("abi %u, model %s, scheme %s (%d stages, b1 = %g), %d fields, %s %s\n",
         desc->abi_version, desc->name, desc->scheme.name,
         desc->scheme.stages, desc->scheme.b[0], desc->num_fields,
         GRADE_HEAT_X0_NAME, GRADE_HEAT_X_NAME);
  grade_library_t *lib = NULL;
  report("wrap", grade_library_wrap(desc, &lib));
  grade_session_t *s = NULL;
  report("session", grade_session_create(lib, &s));

  /* Errors before anything is bound. */
  report("step before initialize", grade_session_step(s, 0.1));
  int64_t shape1[1] = {3};
  double x0[3] = {1.0, 0.0, 0.0};
  grade_tensor_t *tx0 = vector(GRADE_DTYPE_F64, 1, shape1, x0);
  report("bind before the graph", grade_session_bind(s, "x0", tx0));

  /* Path 0 - 1 - 2, both directions, CSR by destination. */
  int64_t rowPtr[4] = {0, 1, 3, 4};
  int64_t colIdx[4] = {1, 0, 2, 1};
  double weights[4] = {1.0, 1.0, 2.0, 2.0};
  int64_t badCol[4] = {1, 0, 7, 1};
  grade_graph_t *graph = NULL;
  report("bad graph",
         grade_graph_create_csr(3, 4, rowPtr, badCol, weights, &graph));
  report("graph", grade_graph_create_csr(3, 4, rowPtr, colIdx, weights, &graph));
  report("bind graph", grade_session_bind_graph(s, graph));

  report("unknown field", grade_session_bind(s, "y", tx0));
  report("binding a state", grade_session_bind(s, "x", tx0));
  grade_tensor_t *f32 = vector(GRADE_DTYPE_F32, 1, shape1, NULL);
  report("wrong dtype", grade_session_bind(s, "x0", f32));
  int64_t shape2[2] = {3, 2};
  grade_tensor_t *wide = vector(GRADE_DTYPE_F64, 2, shape2, NULL);
  report("wrong shape", grade_session_bind(s, "x0", wide));
  report("initialize unbound", grade_session_initialize(s));
  report("x0", grade_session_bind(s, "x0", tx0));
  report("initialize", grade_session_initialize(s));

  /* The right-hand side at x0: -L x0 with L = [[1,-1,0],[-1,3,-2],[0,-2,2]]. */
  grade_tensor_t *dx = NULL;
  report("eval_rhs", grade_session_eval_rhs(s, 0.0, &dx));
  const double *d = (const double *)dx->data;
  printf("rhs %.17g %.17g %.17g\n", d[0], d[1], d[2]);

  grade_integrate_options_t options = GRADE_INTEGRATE_OPTIONS_INIT;
  grade_integrate_stats_t stats = GRADE_INTEGRATE_STATS_INIT;
  report("integrate", grade_session_integrate_ex(s, GRADE_HEAT_T1, &options,
                                                 &stats));
  printf("steps %lld, rhs evaluations %lld\n", (long long)stats.steps,
         (long long)stats.rhs_evaluations);
  grade_tensor_t *tx = NULL;
  report("read", grade_session_read(s, "x", &tx));
  const double *x = (const double *)tx->data;
  /* Mass is conserved; compare with expm(-L) e_0 (computed offline by
   * eigendecomposition of L, 16 digits). */
  const double expected[3] = {0.5087649488199355, 0.28496391124084219,
                              0.20627113993922158};
  double err = 0;
  for (int i = 0; i < 3; ++i)
    err = fmax(err, fabs(x[i] - expected[i]));
  printf("time %.17g, sum %.15f, max error %s\n", grade_session_time(s),
         x[0] + x[1] + x[2], err < 1e-8 ? "< 1e-8" : "TOO LARGE");
  report("negative step", grade_session_step(s, -1.0));
  report("backwards", grade_session_integrate(s, 0.5, 0.0, NULL, NULL));

  grade_tensor_free(tx);
  grade_tensor_free(dx);
  grade_tensor_free(wide);
  grade_tensor_free(f32);
  grade_tensor_free(tx0);
  grade_graph_free(graph);
  grade_session_free(s);
  grade_library_unload(lib);
  return 0;
}
