/*===- descriptor_blob.c - parsing the generated descriptor blob ----*- C -*-===*
 *
 * gradec emits a model's descriptor as a line-oriented text blob rather than
 * as initialised C structs: it is trivial to generate from MLIR, readable in
 * `--emit=llvm` output and in `strings libmodel.so`, and it is parsed once per
 * process into the structs of grade/model_abi.h.
 *
 *===----------------------------------------------------------------------===*/

#include "support.h"

#include "abi_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t gms_dtype_size(int32_t dtype) { return grade_abi_dtype_size(dtype); }

/* Maps a keyword to its value; -1 if unknown. */
static int32_t lookup(const char *word, const char *const *names,
                      const int32_t *values, int count) {
  for (int i = 0; i < count; ++i)
    if (strcmp(word, names[i]) == 0)
      return values[i];
  return -1;
}

static int32_t parse_dtype(const char *word) {
  static const char *const names[] = {"f32", "f64", "i32", "i64"};
  static const int32_t values[] = {GRADE_DTYPE_F32, GRADE_DTYPE_F64,
                                   GRADE_DTYPE_I32, GRADE_DTYPE_I64};
  return lookup(word, names, values, 4);
}

static int32_t parse_role(const char *word) {
  static const char *const names[] = {"input", "param", "state", "let",
                                      "temp"};
  static const int32_t values[] = {GRADE_ROLE_INPUT, GRADE_ROLE_PARAM,
                                   GRADE_ROLE_STATE, GRADE_ROLE_LET,
                                   GMS_ROLE_TEMP};
  return lookup(word, names, values, 5);
}

static int32_t parse_kind(const char *word) {
  static const char *const names[] = {"node", "edge", "global"};
  static const int32_t values[] = {GRADE_KIND_NODE, GRADE_KIND_EDGE,
                                   GRADE_KIND_GLOBAL};
  return lookup(word, names, values, 3);
}

/* Splits `line` in place at spaces; returns the number of words. */
static int split_words(char *line, char **words, int max_words) {
  int count = 0;
  char *p = line;
  while (*p && count < max_words) {
    while (*p == ' ')
      *p++ = '\0';
    if (!*p)
      break;
    words[count++] = p;
    while (*p && *p != ' ')
      ++p;
  }
  return count;
}

static int fail(char *error, size_t size, int line, const char *what) {
  snprintf(error, size, "descriptor blob line %d: %s", line, what);
  return 1;
}

/* Counts the lines starting with `prefix` (to size the arrays up front). */
static int count_records(const char *text, const char *prefix) {
  int count = 0;
  size_t length = strlen(prefix);
  for (const char *line = text; line && *line;) {
    if (strncmp(line, prefix, length) == 0)
      ++count;
    line = strchr(line, '\n');
    if (line)
      ++line;
  }
  return count;
}

int gms_parse_blob(const char *blob, gms_model_t *model, char *error,
                   size_t error_size) {
  memset(model, 0, sizeof(*model));
  size_t length = strlen(blob);
  model->text = malloc(length + 1);
  if (!model->text)
    return fail(error, error_size, 0, "out of memory");
  memcpy(model->text, blob, length + 1);

  int max_slots = count_records(blob, "slot ");
  int max_states = count_records(blob, "rhs_out ");
  int max_swaps = count_records(blob, "swap ");
  model->slots = calloc((size_t)max_slots + 1, sizeof(gms_slot_t));
  model->fields = calloc((size_t)max_slots + 1, sizeof(grade_field_desc_t));
  model->state_slots = calloc((size_t)max_states + 1, sizeof(int32_t));
  model->deriv_slots = calloc((size_t)max_states + 1, sizeof(int32_t));
  model->swaps = calloc(2 * (size_t)max_swaps + 2, sizeof(int32_t));
  if (!model->slots || !model->fields || !model->state_slots ||
      !model->deriv_slots || !model->swaps)
    return fail(error, error_size, 0, "out of memory");

  grade_model_descriptor_t *desc = &model->descriptor;
  desc->abi_version = GRADE_MODEL_ABI_VERSION;
  desc->struct_size = sizeof(grade_model_descriptor_t);
  desc->fields = model->fields;
  desc->source = "";

  int line_no = 0, saw_end = 0;
  char *line = model->text;
  while (line && *line && !saw_end) {
    ++line_no;
    char *next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    char *words[4 + GRADE_MAX_RANK + 4];
    /* `source` keeps the rest of its line (a path may hold spaces). */
    if (strncmp(line, "source ", 7) == 0) {
      desc->source = line + 7;
      line = next;
      continue;
    }
    int n = split_words(line, words, (int)(sizeof(words) / sizeof(*words)));
    if (n == 0) {
      line = next;
      continue;
    }
    const char *key = words[0];
    if (line_no == 1) {
      if (n != 2 || strcmp(key, "grade-model-blob") != 0 ||
          strcmp(words[1], "1") != 0)
        return fail(error, error_size, line_no, "unknown blob version");
    } else if (strcmp(key, "name") == 0 && n == 2) {
      desc->name = words[1];
    } else if (strcmp(key, "scheme") == 0 && n == 4) {
      desc->scheme = words[1];
      desc->scheme_order = atoi(words[2]);
      desc->scheme_stages = atoi(words[3]);
    } else if (strcmp(key, "time") == 0 && n == 4) {
      desc->t0 = strtod(words[1], NULL);
      desc->t1 = strtod(words[2], NULL);
      desc->dt = strtod(words[3], NULL);
    } else if (strcmp(key, "weights") == 0 && n == 2) {
      int32_t dtype = parse_dtype(words[1]);
      desc->graph_weighted = dtype > 0;
      desc->weight_dtype = dtype > 0 ? dtype : 0;
      if (dtype <= 0 && strcmp(words[1], "none") != 0)
        return fail(error, error_size, line_no, "bad weight dtype");
    } else if (strcmp(key, "slot") == 0 && n >= 8) {
      gms_slot_t *slot = &model->slots[model->num_slots];
      if (atoi(words[1]) != GMS_FIRST_DECL_SLOT + model->num_slots)
        return fail(error, error_size, line_no, "slots out of order");
      slot->name = words[2];
      slot->role = parse_role(words[3]);
      slot->kind = parse_kind(words[4]);
      slot->dtype = parse_dtype(words[5]);
      slot->rank = atoi(words[6]);
      if (slot->role < 0 || slot->kind < 0 || slot->dtype < 0 ||
          slot->rank < 0 || slot->rank > GRADE_MAX_RANK ||
          n != 8 + slot->rank)
        return fail(error, error_size, line_no, "malformed slot");
      slot->features = 1;
      for (int d = 0; d < slot->rank; ++d) {
        slot->shape[d] = atoll(words[7 + d]);
        slot->features *= slot->shape[d];
      }
      slot->is_output = atoi(words[7 + slot->rank]);
      ++model->num_slots;
      if (slot->role != GMS_ROLE_TEMP) {
        grade_field_desc_t *field = &model->fields[desc->num_fields++];
        field->name = slot->name;
        field->role = slot->role;
        field->kind = slot->kind;
        field->dtype = slot->dtype;
        field->rank = slot->rank;
        memcpy(field->shape, slot->shape, sizeof(field->shape));
        field->is_output = slot->is_output;
      }
    } else if (strcmp(key, "rhs_out") == 0 && n == 3) {
      model->state_slots[model->num_states] = atoi(words[1]);
      model->deriv_slots[model->num_states] = atoi(words[2]);
      ++model->num_states;
    } else if (strcmp(key, "swap") == 0 && n == 3) {
      model->swaps[2 * model->num_swaps] = atoi(words[1]);
      model->swaps[2 * model->num_swaps + 1] = atoi(words[2]);
      ++model->num_swaps;
    } else if (strcmp(key, "end") == 0 && n == 1) {
      saw_end = 1;
    } else {
      return fail(error, error_size, line_no, "unknown record");
    }
    line = next;
  }
  if (!saw_end || !desc->name || !desc->scheme)
    return fail(error, error_size, line_no, "incomplete blob");

  /* Cross-check the wiring against the slots it names. */
  int32_t last = GMS_FIRST_DECL_SLOT + model->num_slots;
  for (int i = 0; i < model->num_states; ++i) {
    int32_t s = model->state_slots[i], d = model->deriv_slots[i];
    if (s < GMS_FIRST_DECL_SLOT || s >= last || d < GMS_FIRST_DECL_SLOT ||
        d >= last)
      return fail(error, error_size, 0, "rhs_out slot out of range");
    model->slots[d - GMS_FIRST_DECL_SLOT].is_derivative = 1;
  }
  for (int i = 0; i < 2 * model->num_swaps; ++i)
    if (model->swaps[i] < GMS_FIRST_DECL_SLOT || model->swaps[i] >= last)
      return fail(error, error_size, 0, "swap slot out of range");
  return 0;
}
