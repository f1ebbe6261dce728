//===- OutEdgesTest.cpp - The transposed index a model can ask for -------===//
//
// A model with reductions over out-edges lists the graph arrays
// out_offsets, out_targets and out_edges in its slot table; the runtime
// builds them from the CSR index when it binds a graph (only if the table
// lists any of them; a model without out-reductions has none). The test takes the mock's descriptor, adds such slots, and
// replaces its init kernel by one that records what the slots hold before
// running the mock's own. Expected arrays are written out by hand for a
// small multigraph (parallel edges, a self loop, nodes without in- or
// out-edges).
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <vector>

using namespace grade::test;

namespace {

/// What the recording init kernel saw of the out-edge arrays and of a
/// second copy of the in-edge sources (index 3); -1: the slot is not in the
/// table.
int gOutSlot[4] = {-1, -1, -1, -1};
bool gNarrow[4]; ///< the slot holds int32 node numbers
std::vector<int64_t> gSeen[4];
bool gSeenNull[4];
grade_kernel_fn gMockInit = nullptr;

void recordingInit(void *const *slots, int64_t numNodes, int64_t numEdges,
                   double t, double dt) {
  for (int a = 0; a < 4; ++a) {
    gSeen[a].clear();
    gSeenNull[a] = false;
    if (gOutSlot[a] < 0)
      continue;
    const void *data = slots[gOutSlot[a]];
    gSeenNull[a] = data == nullptr;
    int64_t count = a == 0 ? numNodes + 1 : numEdges;
    if (data && gNarrow[a])
      gSeen[a].assign(static_cast<const int32_t *>(data),
                      static_cast<const int32_t *>(data) + count);
    else if (data)
      gSeen[a].assign(static_cast<const int64_t *>(data),
                      static_cast<const int64_t *>(data) + count);
  }
  gMockInit(slots, numNodes, numEdges, t, dt);
}

class OutEdgesTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    const grade_model_descriptor_t &original = *mock.descriptor();
    desc = original;
    slots.assign(original.slots, original.slots + original.num_slots);
    entries.assign(original.entries, original.entries + original.num_entries);
    ASSERT_EQ(entries[0].entry, GRADE_ENTRY_INIT);
    gMockInit = entries[0].fn;
    entries[0].fn = recordingInit;
    desc.entries = entries.data();
    for (int &slot : gOutSlot)
      slot = -1;
    for (bool &narrow : gNarrow)
      narrow = false;
  }

  void TearDown() override {
    grade_session_free(session);
    grade_library_unload(library);
  }

  /// Appends the graph arrays `arrays` (grade_graph_array_t) to the table;
  /// node numbers (out_targets, in_sources) as int32 if `narrow`.
  void ask(std::initializer_list<int32_t> arrays, bool narrow = false) {
    for (int32_t array : arrays) {
      int a = array == GRADE_GRAPH_IN_SOURCES ? 3
                                              : array - GRADE_GRAPH_OUT_OFFSETS;
      bool nodes = array == GRADE_GRAPH_IN_SOURCES ||
                   array == GRADE_GRAPH_OUT_TARGETS;
      gOutSlot[a] = int(slots.size());
      gNarrow[a] = narrow && nodes;
      slots.push_back({"out", GRADE_SLOT_GRAPH, array, 0,
                       gNarrow[a] ? GRADE_DTYPE_I32 : GRADE_DTYPE_I64, 0, 0,
                       {0}});
    }
  }

  /// Wraps the descriptor, binds the graph `src -> dst` and initialises.
  std::string run(int64_t numNodes, const std::vector<int64_t> &src,
                  const std::vector<int64_t> &dst) {
    desc.slots = slots.data();
    desc.num_slots = int32_t(slots.size());
    if (!library) {
      std::string status = statusString(grade_library_wrap(&desc, &library));
      if (status != "ok")
        return status;
      status = statusString(grade_session_create(library, &session));
      if (status != "ok")
        return status;
    }
    grade_graph_t *graph = nullptr;
    std::string status = statusString(grade_graph_create_edges(
        numNodes, int64_t(src.size()), src.data(), dst.data(), nullptr,
        &graph));
    if (status != "ok")
      return status;
    status = statusString(grade_session_bind_graph(session, graph));
    grade_graph_free(graph);
    if (status != "ok")
      return status;
    for (auto [name, rank] : {std::pair<const char *, int32_t>{"x0", 1},
                              std::pair<const char *, int32_t>{"k", 0}}) {
      int64_t shape[1] = {numNodes};
      grade_tensor_t *tensor = nullptr;
      status = statusString(
          grade_tensor_create(GRADE_DTYPE_F64, rank, shape, &tensor));
      if (status != "ok")
        return status;
      auto *data = static_cast<double *>(tensor->data);
      for (int64_t i = 0; i < (rank ? numNodes : 1); ++i)
        data[i] = 1.0;
      status = statusString(grade_session_bind(session, name, tensor));
      grade_tensor_free(tensor);
      if (status != "ok")
        return status;
    }
    return statusString(grade_session_initialize(session));
  }

  MockModel mock;
  grade_model_descriptor_t desc = {};
  std::vector<grade_slot_desc_t> slots;
  std::vector<grade_entry_desc_t> entries;
  grade_library_t *library = nullptr;
  grade_session_t *session = nullptr;
};

// Edges in input order: 0->1, 2->1, 0->3, 3->0, 0->1 (parallel), 4->4,
// 2->3. In CSR order (by destination, then source, parallel edges in input
// order): 3->0 | 0->1, 0->1, 2->1 | - | 0->3, 2->3 | 4->4, i.e. edges 0..6.
// Out-edges of each source in CSR order: node 0: 1, 2, 4; node 1: none;
// node 2: 3, 5; node 3: 0; node 4: 6.
const std::vector<int64_t> kSrc = {0, 2, 0, 3, 0, 4, 2};
const std::vector<int64_t> kDst = {1, 1, 3, 0, 1, 4, 3};
const std::vector<int64_t> kOffsets = {0, 3, 3, 5, 6, 7};
const std::vector<int64_t> kTargets = {1, 1, 3, 1, 3, 0, 4};
const std::vector<int64_t> kEdges = {1, 2, 4, 3, 5, 0, 6};

TEST_F(OutEdgesTest, BuildsTheTransposedIndex) {
  ask({GRADE_GRAPH_OUT_OFFSETS, GRADE_GRAPH_OUT_TARGETS,
       GRADE_GRAPH_OUT_EDGES});
  ASSERT_EQ(run(5, kSrc, kDst), "ok");
  EXPECT_EQ(gSeen[0], kOffsets);
  EXPECT_EQ(gSeen[1], kTargets);
  EXPECT_EQ(gSeen[2], kEdges);
}

TEST_F(OutEdgesTest, OneArrayAlone) {
  // Only the targets: built without the offsets in the table.
  ask({GRADE_GRAPH_OUT_TARGETS});
  ASSERT_EQ(run(5, kSrc, kDst), "ok");
  EXPECT_EQ(gSeen[1], kTargets);
}

TEST_F(OutEdgesTest, ThirtyTwoBitNodeNumbers) {
  // A library compiled with --index-bits=32 (gradec's default) reads node
  // numbers as int32: the same index, offsets and edge numbers still int64.
  ask({GRADE_GRAPH_OUT_OFFSETS, GRADE_GRAPH_OUT_TARGETS, GRADE_GRAPH_OUT_EDGES,
       GRADE_GRAPH_IN_SOURCES},
      /*narrow=*/true);
  ASSERT_EQ(run(5, kSrc, kDst), "ok");
  EXPECT_EQ(gSeen[0], kOffsets);
  EXPECT_EQ(gSeen[1], kTargets);
  EXPECT_EQ(gSeen[2], kEdges);
  // The in-edge sources in CSR order (see above).
  EXPECT_EQ(gSeen[3], (std::vector<int64_t>{3, 0, 0, 2, 0, 2, 4}));
}

TEST_F(OutEdgesTest, RebuiltForEveryGraph) {
  ask({GRADE_GRAPH_OUT_EDGES, GRADE_GRAPH_OUT_OFFSETS});
  ASSERT_EQ(run(5, kSrc, kDst), "ok");
  EXPECT_EQ(gSeen[0], kOffsets);
  EXPECT_EQ(gSeen[2], kEdges);
  // A directed 3-cycle 0->1->2->0 plus 2->1: CSR order 2->0 | 0->1, 2->1 |
  // 1->2, so node 0 has edge 1, node 1 edge 3, node 2 edges 0 and 2.
  ASSERT_EQ(run(3, {0, 1, 2, 2}, {1, 2, 0, 1}), "ok");
  EXPECT_EQ(gSeen[0], (std::vector<int64_t>{0, 1, 2, 4}));
  EXPECT_EQ(gSeen[2], (std::vector<int64_t>{1, 3, 0, 2}));
  // No edges at all: empty rows, and the (empty) arrays are not NULL.
  ASSERT_EQ(run(4, {}, {}), "ok");
  EXPECT_EQ(gSeen[0], (std::vector<int64_t>{0, 0, 0, 0, 0}));
  EXPECT_TRUE(gSeen[2].empty());
  EXPECT_FALSE(gSeenNull[2]);
}

} // namespace
