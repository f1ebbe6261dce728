/*===- heat_demo.c - the heat equation on a torus, against its solution -===*
 *
 *   heat-demo libheat.so [ROWS COLS [T1]]
 *
 * Runs a library compiled from examples/heat.grade on the periodic R x C grid
 * (torus) that the runtime generates, from an initial state made of a few
 * Fourier modes. On a torus the graph Laplacian is diagonal in that basis,
 *
 *   L cos(2 pi (kr r / R + kc c / C)) = lambda cos(...),
 *   lambda = (2 - 2 cos(2 pi kr / R)) + (2 - 2 cos(2 pi kc / C)),
 *
 * so x(t) = sum_m a_m exp(-lambda_m t) mode_m exactly, and the demo prints
 * the integration error against it with the time taken. Only the runtime's
 * C API is used: this is also an example of driving a compiled model.
 *
 *===----------------------------------------------------------------------===*/

#include "grade/runtime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* One Fourier mode of the initial state. */
typedef struct {
  int kr, kc;
  double amplitude;
} mode_t_;

/* From the constant mode (conserved) to the fastest one (r, c) -> (-1)^(r+c)
 * on an even torus, which decays like exp(-8 t). */
static const mode_t_ kModes[] = {{0, 0, 1.0},      {1, 0, 0.5},
                                 {0, 3, -0.25},    {64, 128, 0.125},
                                 {256, 256, 0.1}};
static const int kNumModes = sizeof(kModes) / sizeof(kModes[0]);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints a failed status and exits. */
static void check(grade_status_t status, const char *what) {
  if (!status)
    return;
  fprintf(stderr, "heat-demo: %s: %s\n", what, grade_status_message(status));
  grade_status_free(status);
  exit(1);
}

/* sum_m a_m exp(-lambda_m t) cos(2 pi (kr r / R + kc c / C)) at node (r, c). */
static double exact(int64_t r, int64_t c, int64_t rows, int64_t cols,
                    double t) {
  const double pi = 3.14159265358979323846;
  double value = 0.0;
  for (int m = 0; m < kNumModes; ++m) {
    double lambda = (2.0 - 2.0 * cos(2.0 * pi * kModes[m].kr / rows)) +
                    (2.0 - 2.0 * cos(2.0 * pi * kModes[m].kc / cols));
    double phase = 2.0 * pi * ((double)(kModes[m].kr * r) / (double)rows +
                               (double)(kModes[m].kc * c) / (double)cols);
    value += kModes[m].amplitude * exp(-lambda * t) * cos(phase);
  }
  return value;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: %s libheat.so [ROWS COLS [T1]]\n", argv[0]);
    return 2;
  }
  int64_t rows = argc > 3 ? atoll(argv[2]) : 512;
  int64_t cols = argc > 3 ? atoll(argv[3]) : 512;
  if (rows < 3 || cols < 3) {
    fprintf(stderr, "heat-demo: the torus needs at least 3 x 3 nodes\n");
    return 2;
  }

  grade_library_t *library = NULL;
  check(grade_library_load(argv[1], &library), "loading the model");
  const grade_model_descriptor_t *desc = grade_library_descriptor(library);
  double t1 = argc > 4 ? atof(argv[4]) : desc->t1;

  char spec[64];
  snprintf(spec, sizeof(spec), "torus:%lldx%lld", (long long)rows,
           (long long)cols);
  grade_graph_t *graph = NULL;
  check(grade_graph_generate(spec, &graph), "generating the graph");
  int64_t n = grade_graph_num_nodes(graph);

  grade_tensor_t *x0 = NULL;
  check(grade_tensor_create(GRADE_DTYPE_F64, 1, &n, &x0), "allocating x0");
  double *x0data = (double *)x0->data;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      x0data[r * cols + c] = exact(r, c, rows, cols, 0.0);

  grade_session_t *session = NULL;
  check(grade_session_create(library, &session), "creating an instance");
  check(grade_session_bind_graph(session, graph), "binding the graph");
  check(grade_session_bind(session, "x0", x0), "binding x0");
  check(grade_session_initialize(session), "initialising");

  double start = now();
  check(grade_session_integrate(session, t1, 0.0, NULL, NULL), "integrating");
  double seconds = now() - start;

  grade_tensor_t *x = NULL;
  check(grade_session_read(session, "x", &x), "reading x");
  const double *xdata = (const double *)x->data;
  double maxError = 0.0, maxExact = 0.0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double reference = exact(r, c, rows, cols, t1);
      double error = fabs(xdata[r * cols + c] - reference);
      maxError = error > maxError ? error : maxError;
      maxExact = fabs(reference) > maxExact ? fabs(reference) : maxExact;
    }
  long long steps = (long long)ceil((t1 - desc->t0) / desc->dt * (1 - 1e-9));

  printf("model      %s (%s, dt = %g) from %s\n", desc->name, desc->scheme.name,
         desc->dt, desc->source);
  printf("graph      %s: %lld nodes, %lld edges\n", spec, (long long)n,
         (long long)grade_graph_num_edges(graph));
  printf("integrated t = %g -> %g in %lld steps\n", desc->t0, t1, steps);
  printf("error      max |x - x_exact| = %.3e (relative %.3e)\n", maxError,
         maxError / maxExact);
  printf("time       %.3f s (%.3f ms per step)\n", seconds,
         1e3 * seconds / (double)(steps > 0 ? steps : 1));

  grade_tensor_free(x);
  grade_tensor_free(x0);
  grade_session_free(session);
  grade_graph_free(graph);
  grade_library_unload(library);
  return maxError / maxExact < 1e-6 ? 0 : 1;
}
