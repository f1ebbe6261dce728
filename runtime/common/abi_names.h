/*===- abi_names.h - names and sizes of the ABI enumerations -------*- C -*-===*
 *
 * Shared, header-only, by libgrade_rt (C++) and the support archive linked
 * into generated libraries (C): both describe dtypes and roles in messages,
 * and the support archive must not depend on the runtime.
 *
 *===----------------------------------------------------------------------===*/

#ifndef GRADE_RUNTIME_COMMON_ABI_NAMES_H
#define GRADE_RUNTIME_COMMON_ABI_NAMES_H

#include "grade/model_abi.h"

#include <stddef.h>

/** Bytes per element of `dtype`; 0 if unknown. */
static inline size_t grade_abi_dtype_size(int32_t dtype) {
  switch (dtype) {
  case GRADE_DTYPE_BOOL:
    return 1;
  case GRADE_DTYPE_F32:
  case GRADE_DTYPE_I32:
    return 4;
  case GRADE_DTYPE_F64:
  case GRADE_DTYPE_I64:
    return 8;
  default:
    return 0;
  }
}

/** "f32", "f64", "i32", "i64", "bool"; "?" if unknown. */
static inline const char *grade_abi_dtype_name(int32_t dtype) {
  switch (dtype) {
  case GRADE_DTYPE_F32:
    return "f32";
  case GRADE_DTYPE_F64:
    return "f64";
  case GRADE_DTYPE_I32:
    return "i32";
  case GRADE_DTYPE_I64:
    return "i64";
  case GRADE_DTYPE_BOOL:
    return "bool";
  default:
    return "?";
  }
}

/** A role as messages name it: "input", "parameter", "state", "let",
 *  "readout". */
static inline const char *grade_abi_role_word(int32_t role) {
  switch (role) {
  case GRADE_ROLE_INPUT:
    return "input";
  case GRADE_ROLE_PARAM:
    return "parameter";
  case GRADE_ROLE_STATE:
    return "state";
  case GRADE_ROLE_LET:
    return "let";
  case GRADE_ROLE_READOUT:
    return "readout";
  default:
    return "temporary";
  }
}

#endif /* GRADE_RUNTIME_COMMON_ABI_NAMES_H */
