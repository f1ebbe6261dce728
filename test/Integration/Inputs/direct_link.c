/* Links against a generated library directly (no runtime, no dlopen), using
 * the header from `gradec --emit=header`: the C ABI as a C program sees it.
 * Heat on the path 0 - 1 - 2 (weights 1 and 2), then error handling. */
#include "heat.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const grade_model_api_t *api;
static grade_instance_t *inst;

static void report(const char *what, int32_t code) {
  printf("%s: code %d: %s\n", what, code, code ? api->error_message(inst) : "");
}

int main(void) {
  api = grade_heat_model_api();
  printf("abi %u, model %s, scheme %s, %d fields, %s %s\n", api->abi_version,
         api->descriptor->name, api->descriptor->scheme,
         api->descriptor->num_fields, GRADE_HEAT_X0_NAME, GRADE_HEAT_X_NAME);
  inst = api->create();

  /* Errors before anything is bound. */
  report("step before initialize", api->step(inst, 0.1));
  int64_t shape1[1] = {3};
  double x0[3] = {1.0, 0.0, 0.0};
  report("bind before the graph",
         api->bind(inst, "x0", GRADE_DTYPE_F64, 1, shape1, x0));

  /* Path 0 - 1 - 2, both directions, CSR by destination. */
  int64_t rowPtr[4] = {0, 1, 3, 4};
  int64_t colIdx[4] = {1, 0, 2, 1};
  double weights[4] = {1.0, 1.0, 2.0, 2.0};
  int64_t badCol[4] = {1, 0, 7, 1};
  report("bad graph", api->bind_graph(inst, 3, 4, rowPtr, badCol, weights));
  report("graph", api->bind_graph(inst, 3, 4, rowPtr, colIdx, weights));

  report("unknown field", api->bind(inst, "y", GRADE_DTYPE_F64, 1, shape1, x0));
  report("binding a state", api->bind(inst, "x", GRADE_DTYPE_F64, 1, shape1, x0));
  report("wrong dtype", api->bind(inst, "x0", GRADE_DTYPE_F32, 1, shape1, x0));
  int64_t shape2[2] = {3, 2};
  report("wrong shape", api->bind(inst, "x0", GRADE_DTYPE_F64, 2, shape2, x0));
  report("initialize unbound", api->initialize(inst));
  report("x0", api->bind(inst, "x0", GRADE_DTYPE_F64, 1, shape1, x0));
  report("initialize", api->initialize(inst));

  /* The right-hand side at x0: -L x0 with L = [[1,-1,0],[-1,3,-2],[0,-2,2]]. */
  double dx[3];
  void *derivs[1] = {dx};
  report("eval_rhs", api->eval_rhs(inst, 0.0, derivs));
  printf("rhs %.17g %.17g %.17g\n", dx[0], dx[1], dx[2]);

  report("integrate", api->integrate(inst, GRADE_HEAT_T1, 0.0));
  double x[3];
  report("read", api->read(inst, "x", GRADE_DTYPE_F64, 1, shape1, x));
  /* Mass is conserved; compare with expm(-L) e_0 (computed offline by
   * eigendecomposition of L, 16 digits). */
  const double expected[3] = {0.5087649488199355, 0.28496391124084219,
                              0.20627113993922158};
  double err = 0;
  for (int i = 0; i < 3; ++i)
    err = fmax(err, fabs(x[i] - expected[i]));
  printf("time %.17g, sum %.15f, max error %s\n", api->time(inst),
         x[0] + x[1] + x[2], err < 1e-8 ? "< 1e-8" : "TOO LARGE");
  report("negative step", api->step(inst, -1.0));
  report("backwards", api->integrate(inst, 0.5, 0.0));
  api->destroy(inst);
  return 0;
}
