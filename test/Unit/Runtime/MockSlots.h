/*===- MockSlots.h - the mock model's slot table indices -----------*- C -*-===*
 *
 * Shared by the mock library (MockModel.c) and the tests that address its
 * slots (MockModel.h). Slot 11 is unused (NULL).
 *
 *===----------------------------------------------------------------------===*/

#ifndef GRADE_TEST_UNIT_RUNTIME_MOCKSLOTS_H
#define GRADE_TEST_UNIT_RUNTIME_MOCKSLOTS_H

enum MockSlot {
  kSlotOffsets,
  kSlotSources,
  kSlotWeights,
  kSlotX0,
  kSlotK,
  kSlotFlow,
  kSlotInflow,
  kSlotX,
  kSlotY,
  kSlotDx,
  kSlotDy,
  kSlotUnused,
  kSlotXNext,
  kSlotK1,
  kSlotKy,
  kMockNumSlots
};

#endif /* GRADE_TEST_UNIT_RUNTIME_MOCKSLOTS_H */
