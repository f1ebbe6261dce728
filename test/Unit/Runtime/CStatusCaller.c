/*===- CStatusCaller.c - Calls into the status API as C code does -*- C -*-===*
 *
 * A C caller may pass any int where a grade_status_code_t is expected; in C
 * that is well defined, in C++ the same call would already be undefined
 * behaviour in the caller. ReliabilityTest uses these to pass out-of-range
 * codes the way a C host would.
 *
 *===----------------------------------------------------------------------===*/

#include "grade/runtime.h"

const char *grade_test_code_name(int code) {
  return grade_status_code_name((grade_status_code_t)code);
}

grade_status_t grade_test_status_make(int code, const char *message) {
  return grade_status_make((grade_status_code_t)code, "%s", message);
}
