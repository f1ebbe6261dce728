/*===- CTransformCaller.c - A group element built as C code does -*- C -*-===*
 *
 * GRADE_TRANSFORM_INIT is an initialiser for C hosts; this file compiles it
 * as C and hands SymmetryTest the time a scaled, shifted element gives.
 *
 *===----------------------------------------------------------------------===*/

#include "grade/runtime.h"

double grade_test_transform_time(const grade_model_descriptor_t *model,
                                 double scale, double shift, double t) {
  grade_transform_t g = GRADE_TRANSFORM_INIT;
  g.scale = scale;
  g.time_shift = shift;
  if (g.struct_size != sizeof(grade_transform_t) || g.rotation ||
      g.permutation || g.num_nodes)
    return -1.0;
  return grade_symmetry_time(model, &g, t);
}
