/*===- support.h - internals of the model support archive ----------*- C -*-===*
 *
 * The support archive is linked by gradec into every generated library. The
 * generated object provides the kernels' entry points and a descriptor blob;
 * this code provides everything else behind grade_model_api(): instances,
 * binding with checks, time stepping, reading results.
 *
 * Contract with generated code (all symbols hidden inside the library):
 *
 *   const char gradegen_descriptor_blob[];      NUL-terminated text, below
 *   void gradegen_entry_init(void **slots, int64_t N, int64_t E,
 *                            double t, double dt);
 *   void gradegen_entry_rhs(...);  void gradegen_entry_step(...);
 *
 * `slots` is an array of buffer pointers: 0 row_ptr (i64, N+1), 1 col_idx
 * (i64, E), 2 edge weights (model weight dtype, E; NULL if the model reads
 * none), then one slot per declaration of the blob, in order. init writes
 * lets and initial states, rhs writes each state's derivative into its
 * `rhs_out` slot, step writes new states in place or into a temporary that
 * a `swap` line says to exchange with the state afterwards.
 *
 * Blob format, one record per line:
 *   grade-model-blob 1
 *   name <identifier>
 *   source <rest of line>
 *   scheme <name> <order> <stages>
 *   time <t0> <t1> <dt>                  (C99 hexadecimal floats)
 *   weights none|f32|f64
 *   slot <index> <name> <role> <kind> <dtype> <rank> <dims...> <output 0|1>
 *   rhs_out <state slot> <derivative slot>
 *   swap <slot> <slot>
 *   end
 *
 *===----------------------------------------------------------------------===*/

#ifndef GRADE_RUNTIME_SUPPORT_SUPPORT_H
#define GRADE_RUNTIME_SUPPORT_SUPPORT_H

#include "grade/model_abi.h"

#include <stddef.h>
#include <stdint.h>

/** Slots 0..2 hold the graph; declarations start here. */
#define GMS_FIRST_DECL_SLOT 3

/** Role of a slot: the public roles plus internal temporaries. */
enum { GMS_ROLE_TEMP = 100 };

typedef struct gms_slot {
  const char *name;
  int32_t role;  /* grade_field_role_t or GMS_ROLE_TEMP */
  int32_t kind;  /* grade_field_kind_t */
  int32_t dtype; /* grade_dtype_t */
  int32_t rank;
  int64_t shape[GRADE_MAX_RANK];
  int64_t features; /* product of shape */
  int32_t is_output;
  int32_t is_derivative; /* an rhs_out target: points at caller memory */
} gms_slot_t;

typedef struct gms_model {
  grade_model_descriptor_t descriptor; /* the public view */
  grade_field_desc_t *fields;          /* non-temporary slots */
  int32_t num_slots;                   /* declaration slots */
  gms_slot_t *slots;                   /* slot GMS_FIRST_DECL_SLOT + i */
  int32_t num_states;
  int32_t *state_slots; /* absolute slot indices, declaration order */
  int32_t *deriv_slots; /* rhs_out slot of each state */
  int32_t num_swaps;
  int32_t *swaps; /* pairs of absolute slot indices */
  char *text;     /* owned copy of the blob that names point into */
} gms_model_t;

/** Parses a blob; returns 0 on success, else writes a message to `error`. */
int gms_parse_blob(const char *blob, gms_model_t *model, char *error,
                   size_t error_size);

/** Size in bytes of one element of `dtype` (0 if unknown). */
size_t gms_dtype_size(int32_t dtype);

#endif /* GRADE_RUNTIME_SUPPORT_SUPPORT_H */
