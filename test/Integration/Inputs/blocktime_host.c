/* The blocktime of the kernels' OpenMP runtime (libomp, a dependency of
 * the model library linked into this program) before and after a step:
 * libomp's default, then the runtime's 1 ms, unless KMP_BLOCKTIME is set.
 * Heat on the path 0 - 1 - 2. */
#include "heat.h"

#include "grade/runtime.h"

#include <dlfcn.h>
#include <stdio.h>

static int check(const char *what, grade_status_t status) {
  if (!status)
    return 0;
  printf("FAIL %s: %s\n", what, grade_status_message(status));
  grade_status_free(status);
  return 1;
}

int main(void) {
  int (*getBlocktime)(void) =
      (int (*)(void))dlsym(RTLD_DEFAULT, "kmp_get_blocktime");
  if (!getBlocktime) {
    printf("FAIL no kmp_get_blocktime in the process\n");
    return 1;
  }
  printf("before: %d ms\n", getBlocktime());
  grade_library_t *lib = NULL;
  grade_session_t *s = NULL;
  grade_graph_t *graph = NULL;
  int64_t rowPtr[4] = {0, 1, 3, 4};
  int64_t colIdx[4] = {1, 0, 2, 1};
  double weights[4] = {1.0, 1.0, 2.0, 2.0};
  int64_t shape[1] = {3};
  grade_tensor_t *x0 = NULL;
  if (check("wrap", grade_library_wrap(grade_heat_model_descriptor(), &lib)) ||
      check("session", grade_session_create(lib, &s)) ||
      check("graph",
            grade_graph_create_csr(3, 4, rowPtr, colIdx, weights, &graph)) ||
      check("bind graph", grade_session_bind_graph(s, graph)) ||
      check("tensor", grade_tensor_create(GRADE_DTYPE_F64, 1, shape, &x0)))
    return 1;
  ((double *)x0->data)[0] = 1.0;
  if (check("bind", grade_session_bind(s, "x0", x0)) ||
      check("initialize", grade_session_initialize(s)) ||
      check("step", grade_session_step(s, 0.01)))
    return 1;
  printf("after a step: %d ms\n", getBlocktime());
  grade_tensor_free(x0);
  grade_graph_free(graph);
  grade_session_free(s);
  grade_library_unload(lib);
  return 0;
}
