//===- LibraryTest.cpp - Tests of library loading and JSON ------*- C++ -*-===//
//
// Loads the mock model (MockModel.c) and its broken builds, wraps its
// descriptor as a linked model would be, and checks every rejection of
// library.cpp on copies of the mock's descriptor broken one way each.
//
//===----------------------------------------------------------------------===//

#include "MockModel.h"
#include "TestUtil.h"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>

using namespace grade::test;

namespace {

struct LibraryDeleter {
  void operator()(grade_library_t *library) const {
    grade_library_unload(library);
  }
};
using LibraryPtr = std::unique_ptr<grade_library_t, LibraryDeleter>;

std::string loadError(const std::string &path) {
  grade_library_t *raw = reinterpret_cast<grade_library_t *>(0x1);
  std::string result = statusString(grade_library_load(path.c_str(), &raw));
  EXPECT_EQ(raw, nullptr);
  return result;
}

std::string wrapError(const grade_model_descriptor_t *descriptor) {
  grade_library_t *raw = reinterpret_cast<grade_library_t *>(0x1);
  std::string result = statusString(grade_library_wrap(descriptor, &raw));
  if (result == "ok")
    grade_library_unload(raw);
  else
    EXPECT_EQ(raw, nullptr);
  return result;
}

std::string toJson(const grade_model_descriptor_t *descriptor) {
  char *json = nullptr;
  std::string status =
      statusString(grade_descriptor_to_json(descriptor, &json));
  if (status != "ok")
    return status;
  std::string result = json;
  grade_string_free(json);
  return result;
}

TEST(LibraryTest, LoadsTheMockModel) {
  grade_library_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &raw)),
            "ok");
  LibraryPtr library(raw);
  const grade_model_descriptor_t *desc =
      grade_library_descriptor(library.get());
  ASSERT_NE(desc, nullptr);
  // The very descriptor the library exports, under both names.
  MockModel mock;
  ASSERT_TRUE(mock.ok());
  EXPECT_EQ(desc, mock.descriptor());
  EXPECT_EQ(desc, mock.aliasFn());

  EXPECT_EQ(desc->abi_version, GRADE_MODEL_ABI_VERSION);
  EXPECT_EQ(desc->struct_size, sizeof(grade_model_descriptor_t));
  EXPECT_STREQ(desc->name, "decay");
  EXPECT_STREQ(desc->scheme.name, "heun");
  EXPECT_EQ(desc->scheme.order, 2);
  EXPECT_EQ(desc->scheme.stages, 2);
  EXPECT_EQ(desc->dt, 0.1);
  EXPECT_EQ(desc->graph_weighted, 1);
  EXPECT_EQ(desc->weight_dtype, GRADE_DTYPE_F32);
  ASSERT_EQ(desc->num_fields, 6);
  EXPECT_EQ(desc->num_slots, int32_t(kMockNumSlots));
  EXPECT_EQ(desc->num_entries, 3);

  const grade_field_desc_t *k = grade_descriptor_find_field(desc, "k");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k, &desc->fields[kFieldK]);
  EXPECT_EQ(k->role, GRADE_ROLE_PARAM);
  EXPECT_EQ(k->kind, GRADE_KIND_GLOBAL);
  const grade_field_desc_t *x = grade_descriptor_find_field(desc, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->role, GRADE_ROLE_STATE);
  EXPECT_EQ(x->is_output, 1);
  const grade_field_desc_t *y = grade_descriptor_find_field(desc, "y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y, &desc->fields[kFieldY]);
  EXPECT_EQ(y->dtype, GRADE_DTYPE_F32);
  EXPECT_EQ(y->rank, 1);
  EXPECT_EQ(y->shape[0], 2);
  EXPECT_EQ(grade_descriptor_find_field(desc, "x_next"), nullptr); // A slot.
  EXPECT_EQ(grade_descriptor_find_field(desc, "nope"), nullptr);
  EXPECT_EQ(grade_descriptor_find_field(desc, nullptr), nullptr);
  EXPECT_EQ(grade_descriptor_find_field(nullptr, "x"), nullptr);
}

TEST(LibraryTest, LoadingTwiceGivesIndependentHandles) {
  grade_library_t *first = nullptr, *second = nullptr;
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &first)),
            "ok");
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &second)),
            "ok");
  grade_library_unload(first);
  // The second handle still works after the first is unloaded.
  EXPECT_STREQ(grade_library_descriptor(second)->name, "decay");
  grade_library_unload(second);
  grade_library_unload(nullptr);
}

TEST(LibraryTest, BareFileNameIsInTheCurrentDirectory) {
  // dlopen would find the system's libm for "libm.so.6" (and the loader
  // would then say it is no model library); the runtime looks for the file
  // in the current directory instead, where there is none.
  EXPECT_EQ(loadError("libm.so.6"),
            "[not found] libm.so.6: cannot load the library: cannot open "
            "shared object file: No such file or directory");
}

//===----------------------------------------------------------------------===//
// Wrapping a linked descriptor
//===----------------------------------------------------------------------===//

TEST(LibraryTest, WrapsALinkedDescriptor) {
  MockModel mock;
  ASSERT_TRUE(mock.ok());
  mock.reset();
  grade_library_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_library_wrap(mock.descriptor(), &raw)), "ok");
  LibraryPtr library(raw);
  EXPECT_EQ(grade_library_descriptor(library.get()), mock.descriptor());

  // A session on the wrapped descriptor runs the same kernels: one Heun
  // step of dx/dt = -k x multiplies x by 1 - kh + (kh)^2 / 2.
  grade_session_t *session = nullptr;
  ASSERT_EQ(statusString(grade_session_create(library.get(), &session)), "ok");
  std::unique_ptr<grade_session_t, void (*)(grade_session_t *)> owner(
      session, grade_session_free);
  grade_graph_t *graph = nullptr;
  ASSERT_EQ(statusString(grade_graph_generate("path:2", &graph)), "ok");
  GraphPtr graphOwner(graph);
  ASSERT_EQ(statusString(grade_session_bind_graph(session, graph)), "ok");
  const int64_t shape[] = {2};
  grade_tensor_t *x0 = nullptr, *k = nullptr;
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 1, shape, &x0)),
            "ok");
  TensorPtr x0Owner(x0);
  ASSERT_EQ(statusString(grade_tensor_create(GRADE_DTYPE_F64, 0, shape, &k)),
            "ok");
  TensorPtr kOwner(k);
  static_cast<double *>(x0->data)[0] = 1;
  static_cast<double *>(x0->data)[1] = 3;
  *static_cast<double *>(k->data) = 2;
  ASSERT_EQ(statusString(grade_session_bind(session, "x0", x0)), "ok");
  ASSERT_EQ(statusString(grade_session_bind(session, "k", k)), "ok");
  ASSERT_EQ(statusString(grade_session_initialize(session)), "ok");
  ASSERT_EQ(statusString(grade_session_step(session, 0.25)), "ok");
  grade_tensor_t *x = nullptr;
  ASSERT_EQ(statusString(grade_session_read(session, "x", &x)), "ok");
  TensorPtr xOwner(x);
  const double factor = 1 - 0.5 + 0.5 * 0.5 / 2; // kh = 0.5
  EXPECT_DOUBLE_EQ(static_cast<double *>(x->data)[0], 1 * factor);
  EXPECT_DOUBLE_EQ(static_cast<double *>(x->data)[1], 3 * factor);
  EXPECT_EQ(mock.badSlots(), 0);

  // Unloading a wrapped descriptor leaves the library that holds it alone.
  owner.reset();
  library.reset();
  EXPECT_STREQ(mock.descriptor()->name, "decay");
}

TEST(LibraryTest, WrapArguments) {
  MockModel mock;
  ASSERT_TRUE(mock.ok());
  EXPECT_EQ(statusString(grade_library_wrap(mock.descriptor(), nullptr)),
            "[invalid argument] output pointer is NULL");
  EXPECT_EQ(wrapError(nullptr),
            "[invalid argument] linked model: invalid model descriptor: the "
            "descriptor is NULL");
}

//===----------------------------------------------------------------------===//
// JSON
//===----------------------------------------------------------------------===//

TEST(LibraryTest, MockModelAsJson) {
  grade_library_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &raw)),
            "ok");
  LibraryPtr library(raw);
  EXPECT_EQ(toJson(grade_library_descriptor(library.get())),
            R"({
  "name": "decay",
  "abi_version": 2,
  "source": "test/Unit/Runtime/MockModel.c",
  "targets": ["cpu"],
  "scheme": {"name": "heun", "order": 2, "stages": 2, "a": [[0, 0], [1, 0]], "b": [0.5, 0.5], "c": [0, 1], "stability_limit": 2, "t0": 0, "t1": 1, "dt": 0.1},
  "graph": {"weighted": true, "weight_dtype": "f32"},
  "symmetry": {"groups": ["permutation"], "dim": 0, "time_weight": 0, "spelling": "permutations", "laws": {}},
  "fields": [
    {"name": "x0", "role": "input", "kind": "node", "dtype": "f64", "shape": [], "output": false},
    {"name": "k", "role": "param", "kind": "global", "dtype": "f64", "shape": [], "output": false},
    {"name": "flow", "role": "let", "kind": "edge", "dtype": "f64", "shape": [], "output": false},
    {"name": "inflow", "role": "let", "kind": "node", "dtype": "f64", "shape": [], "output": false},
    {"name": "x", "role": "state", "kind": "node", "dtype": "f64", "shape": [], "output": true},
    {"name": "y", "role": "state", "kind": "global", "dtype": "f32", "shape": [2], "output": false}
  ],
  "buffers": [
    {"name": "in_offsets", "holds": "graph", "dtype": "i64"},
    {"name": "in_sources", "holds": "graph", "dtype": "i64"},
    {"name": "weights", "holds": "graph", "dtype": "f32"},
    {"name": "x0", "holds": "field"},
    {"name": "k", "holds": "field"},
    {"name": "flow", "holds": "field"},
    {"name": "inflow", "holds": "field"},
    {"name": "x", "holds": "field"},
    {"name": "y", "holds": "field"},
    {"name": "dx", "holds": "derivative"},
    {"name": "dy", "holds": "derivative"},
    {"name": null, "holds": "unused"},
    {"name": "x_next", "holds": "temporary"},
    {"name": "k1", "holds": "temporary"},
    {"name": "ky", "holds": "temporary"}
  ],
  "entries": ["init", "rhs", "step"]
})");
}

TEST(LibraryTest, Rk4DescriptorAsJson) {
  // A descriptor as a host program builds it, with the classic RK4 tableau.
  const grade_field_desc_t fields[] = {
      {"x0", GRADE_ROLE_INPUT, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {}, 0, 0},
      {"x", GRADE_ROLE_STATE, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {}, 1, 0},
  };
  const double a[16] = {0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0};
  const double b[4] = {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6};
  const double c[4] = {0, 0.5, 0.5, 1};
  grade_model_descriptor_t desc = {};
  desc.abi_version = GRADE_MODEL_ABI_VERSION;
  desc.struct_size = sizeof(desc);
  desc.name = "heat";
  desc.source = "examples/heat.grade";
  desc.scheme = {"rk4", 4, 4, a, b, c};
  desc.t0 = 0;
  desc.t1 = 1;
  desc.dt = 0.01;
  desc.graph_weighted = 1;
  desc.weight_dtype = GRADE_DTYPE_F64;
  desc.num_fields = 2;
  desc.fields = fields;
  EXPECT_EQ(toJson(&desc),
            R"({
  "name": "heat",
  "abi_version": 2,
  "source": "examples/heat.grade",
  "targets": ["cpu"],
  "scheme": {"name": "rk4", "order": 4, "stages": 4, "a": [[0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 1, 0]], "b": [0.16666666666666666, 0.3333333333333333, 0.3333333333333333, 0.16666666666666666], "c": [0, 0.5, 0.5, 1], "stability_limit": 2.785293, "t0": 0, "t1": 1, "dt": 0.01},
  "graph": {"weighted": true, "weight_dtype": "f64"},
  "fields": [
    {"name": "x0", "role": "input", "kind": "node", "dtype": "f64", "shape": [], "output": false},
    {"name": "x", "role": "state", "kind": "node", "dtype": "f64", "shape": [], "output": true}
  ],
  "buffers": [],
  "entries": []
})");
}

TEST(LibraryTest, JsonEscapesNumbersAndShapes) {
  const grade_field_desc_t fields[] = {
      {"w", GRADE_ROLE_LET, GRADE_KIND_EDGE, GRADE_DTYPE_F32, 2, {3, 4}, 0, 0},
  };
  grade_model_descriptor_t desc = {};
  desc.abi_version = GRADE_MODEL_ABI_VERSION;
  desc.name = "a\"b\\c\n\t\x01";
  desc.source = nullptr;
  desc.scheme.name = "rk4";
  desc.t0 = -0.5;
  desc.t1 = INFINITY;
  desc.dt = 1e-7;
  desc.num_fields = 1;
  desc.fields = fields;
  // Without a tableau the scheme has no a/b/c.
  EXPECT_EQ(toJson(&desc),
            "{\n"
            "  \"name\": \"a\\\"b\\\\c\\n\\t\\u0001\",\n"
            "  \"abi_version\": 2,\n"
            "  \"source\": null,\n"
            "  \"targets\": [\"cpu\"],\n"
            "  \"scheme\": {\"name\": \"rk4\", \"order\": 0, \"stages\": 0, "
            "\"t0\": -0.5, \"t1\": null, \"dt\": 1e-07},\n"
            "  \"graph\": {\"weighted\": false, \"weight_dtype\": null},\n"
            "  \"fields\": [\n"
            "    {\"name\": \"w\", \"role\": \"let\", \"kind\": \"edge\", "
            "\"dtype\": \"f32\", \"shape\": [3, 4], \"output\": false}\n"
            "  ],\n"
            "  \"buffers\": [],\n"
            "  \"entries\": []\n"
            "}");
  desc.num_fields = 0;
  std::string empty = toJson(&desc);
  EXPECT_NE(empty.find("\"fields\": [],\n"), std::string::npos) << empty;
  EXPECT_EQ(toJson(nullptr), "[invalid argument] descriptor is NULL");
  // Shortest round-trip forms, in the solve clause and the tableau; a
  // non-finite coefficient becomes null.
  desc.t0 = 0.1 + 0.2;
  desc.t1 = 1e21;
  const double a[1] = {0};
  const double b[1] = {NAN};
  const double c[1] = {1.0 / 3};
  desc.scheme = {"odd", 1, 1, a, b, c};
  EXPECT_NE(toJson(&desc).find("\"a\": [[0]], \"b\": [null], \"c\": "
                               "[0.3333333333333333], \"stability_limit\": "
                               "null, \"t0\": 0.30000000000000004, "
                               "\"t1\": 1e+21"),
            std::string::npos)
      << toJson(&desc);
  // A stage count without coefficients renders no tableau.
  desc.scheme.b = nullptr;
  EXPECT_NE(toJson(&desc).find("\"stages\": 1, \"t0\""), std::string::npos)
      << toJson(&desc);
}

//===----------------------------------------------------------------------===//
// Rejected libraries
//===----------------------------------------------------------------------===//

TEST(LibraryTest, MissingFile) {
  TempDir dir;
  std::string path = dir.path("missing.so");
  EXPECT_EQ(loadError(path),
            "[not found] " + path +
                ": cannot load the library: cannot open shared object file: "
                "No such file or directory");
}

TEST(LibraryTest, NotALibrary) {
  TempDir dir;
  std::string path =
      dir.write("fake.so", std::string(200, 'x') + "\nnot an ELF file\n");
  std::string result = loadError(path);
  std::string prefix = "[I/O error] " + path + ": cannot load the library: ";
  EXPECT_EQ(result.substr(0, prefix.size()), prefix);
  // The rest is dlerror()'s explanation, e.g. "invalid ELF header".
  EXPECT_NE(result.find("ELF"), std::string::npos) << result;
}

TEST(LibraryTest, NotAModelLibrary) {
  // libgrade_rt is a shared library without a model entry point.
  EXPECT_EQ(loadError(GRADE_RT_LIBRARY_PATH),
            std::string("[invalid argument] ") + GRADE_RT_LIBRARY_PATH +
                ": not a grade model library (no 'grade_model_descriptor' "
                "symbol)");
}

TEST(LibraryTest, FirstAbiLibrary) {
  EXPECT_EQ(loadError(GRADE_MOCK_MODEL_ABI1_PATH),
            std::string("[ABI mismatch] ") + GRADE_MOCK_MODEL_ABI1_PATH +
                ": built for model ABI version 1, this runtime supports "
                "version 2; recompile it with this gradec");
}

TEST(LibraryTest, WrongAbiVersion) {
  EXPECT_EQ(loadError(GRADE_MOCK_MODEL_ABI3_PATH),
            std::string("[ABI mismatch] ") + GRADE_MOCK_MODEL_ABI3_PATH +
                ": descriptor built for model ABI version 3, this runtime "
                "supports version 2; recompile it with this gradec");
}

TEST(LibraryTest, InvalidDescriptor) {
  EXPECT_EQ(loadError(GRADE_MOCK_MODEL_BAD_DESCRIPTOR_PATH),
            std::string("[invalid argument] ") +
                GRADE_MOCK_MODEL_BAD_DESCRIPTOR_PATH +
                ": invalid model descriptor: field 1 ('k') has unknown role "
                "7");
}

TEST(LibraryTest, NullArguments) {
  grade_library_t *raw = nullptr;
  EXPECT_EQ(statusString(grade_library_load(nullptr, &raw)),
            "[invalid argument] library path is empty");
  EXPECT_EQ(statusString(grade_library_load("", &raw)),
            "[invalid argument] library path is empty");
  EXPECT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, nullptr)),
            "[invalid argument] output pointer is NULL");
  EXPECT_EQ(grade_library_descriptor(nullptr), nullptr);
}

/// A modifiable copy of the mock's descriptor, with its own field, slot,
/// entry, swap and tableau arrays, to break one way per test.
class BrokenDescriptorTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(mock.ok());
    const grade_model_descriptor_t &original = *mock.descriptor();
    desc = original;
    fields.assign(original.fields, original.fields + original.num_fields);
    slots.assign(original.slots, original.slots + original.num_slots);
    entries.assign(original.entries, original.entries + original.num_entries);
    const grade_scheme_desc_t &scheme = original.scheme;
    size_t stages = size_t(scheme.stages);
    a.assign(scheme.a, scheme.a + stages * stages);
    b.assign(scheme.b, scheme.b + stages);
    c.assign(scheme.c, scheme.c + stages);
    ASSERT_EQ(entries[2].entry, GRADE_ENTRY_STEP);
    swaps.assign(entries[2].swaps, entries[2].swaps + 2 * entries[2].num_swaps);
    desc.fields = fields.data();
    desc.slots = slots.data();
    desc.entries = entries.data();
    entries[2].swaps = swaps.data();
    desc.scheme.a = a.data();
    desc.scheme.b = b.data();
    desc.scheme.c = c.data();
    // The unbroken copy is accepted.
    ASSERT_EQ(wrapError(&desc), "ok");
  }

  /// The status of wrapping the descriptor as broken by the test.
  std::string wrap() { return wrapError(&desc); }

  /// The full message of an invalid descriptor.
  static std::string invalid(const std::string &what) {
    return "[invalid argument] linked model: invalid model descriptor: " + what;
  }

  /// Whether `status` is an invalid descriptor whose explanation starts
  /// with `what`.
  static bool startsInvalid(const std::string &status,
                            const std::string &what) {
    std::string prefix = invalid(what);
    return status.compare(0, prefix.size(), prefix) == 0;
  }

  MockModel mock;
  grade_model_descriptor_t desc = {};
  std::vector<grade_field_desc_t> fields;
  std::vector<grade_slot_desc_t> slots;
  std::vector<grade_entry_desc_t> entries;
  std::vector<int32_t> swaps;
  std::vector<double> a, b, c;
};

TEST_F(BrokenDescriptorTest, AbiVersionAndSize) {
  desc.abi_version = 1;
  EXPECT_EQ(wrap(), "[ABI mismatch] linked model: descriptor built for model "
                    "ABI version 1, this runtime supports version 2; "
                    "recompile it with this gradec");
  desc.abi_version = GRADE_MODEL_ABI_VERSION;
  desc.struct_size = offsetof(grade_model_descriptor_t, set_num_threads);
  EXPECT_EQ(wrap(), "[ABI mismatch] linked model: descriptor is 136 bytes, "
                    "this runtime needs at least 272; recompile it with this "
                    "gradec");
  // A newer, larger descriptor is fine.
  desc.struct_size = sizeof(desc) + 16;
  EXPECT_EQ(wrap(), "ok");
}

TEST_F(BrokenDescriptorTest, NameAndInterval) {
  desc.name = "";
  EXPECT_EQ(wrap(), invalid("the model has no name"));
  desc.name = nullptr;
  EXPECT_EQ(wrap(), invalid("the model has no name"));
  desc.name = "decay";
  desc.dt = -0.1;
  EXPECT_EQ(wrap(), invalid("bad solve interval t0 = 0, t1 = 1, dt = -0.1"));
  desc.dt = 0.1;
  desc.t1 = NAN;
  EXPECT_EQ(wrap(), invalid("bad solve interval t0 = 0, t1 = nan, dt = 0.1"));
  desc.t1 = 1;
  desc.t0 = -INFINITY;
  EXPECT_EQ(wrap(), invalid("bad solve interval t0 = -inf, t1 = 1, dt = 0.1"));
  // dt = 0 means "no default step".
  desc.t0 = 0;
  desc.dt = 0;
  EXPECT_EQ(wrap(), "ok");
}

TEST_F(BrokenDescriptorTest, GraphWeights) {
  desc.graph_weighted = 2;
  EXPECT_EQ(wrap(), invalid("graph_weighted is 2"));
  desc.graph_weighted = 1;
  desc.weight_dtype = GRADE_DTYPE_I32;
  EXPECT_EQ(wrap(), invalid("weight_dtype 3 for a weighted graph"));
  desc.graph_weighted = 0;
  desc.weight_dtype = GRADE_DTYPE_F32;
  EXPECT_EQ(wrap(), invalid("weight_dtype 1 for an unweighted graph"));
  // An unweighted model has no weights to read.
  desc.weight_dtype = 0;
  EXPECT_EQ(wrap(), invalid("slot 2: graph array 3 has dtype 1"));
  // A weighted model reads them in its own dtype.
  desc.graph_weighted = 1;
  desc.weight_dtype = GRADE_DTYPE_F64;
  EXPECT_EQ(wrap(), invalid("slot 2: graph array 3 has dtype 1"));
}

TEST_F(BrokenDescriptorTest, Fields) {
  desc.fields = nullptr;
  EXPECT_TRUE(startsInvalid(wrap(), "6 fields at ")) << wrap();
  desc.fields = fields.data();
  desc.num_fields = -1;
  EXPECT_TRUE(startsInvalid(wrap(), "-1 fields at ")) << wrap();
  desc.num_fields = int32_t(fields.size());

  auto broken = [&](int index,
                    const std::function<void(grade_field_desc_t &)> &breakIt) {
    grade_field_desc_t saved = fields[size_t(index)];
    breakIt(fields[size_t(index)]);
    std::string result = wrap();
    fields[size_t(index)] = saved;
    return result;
  };
  EXPECT_EQ(broken(2, [](auto &f) { f.name = ""; }),
            invalid("field 2 has no name"));
  EXPECT_EQ(broken(2, [](auto &f) { f.name = nullptr; }),
            invalid("field 2 has no name"));
  EXPECT_EQ(broken(3, [](auto &f) { f.role = 0; }),
            invalid("field 3 ('inflow') has unknown role 0"));
  EXPECT_EQ(broken(3, [](auto &f) { f.role = GRADE_ROLE_READOUT + 1; }),
            invalid("field 3 ('inflow') has unknown role 6"));
  // A readout needs the entry that computes it.
  EXPECT_EQ(broken(3, [](auto &f) { f.role = GRADE_ROLE_READOUT; }),
            invalid("readout fields but no readout entry point"));
  EXPECT_EQ(broken(2, [](auto &f) { f.kind = 0; }),
            invalid("field 2 ('flow') has unknown kind 0"));
  EXPECT_EQ(broken(2, [](auto &f) { f.kind = GRADE_KIND_GLOBAL + 1; }),
            invalid("field 2 ('flow') has unknown kind 4"));
  EXPECT_EQ(broken(0, [](auto &f) { f.dtype = 9; }),
            invalid("field 0 ('x0') has unknown dtype 9"));
  EXPECT_EQ(broken(5, [](auto &f) { f.rank = GRADE_MAX_RANK + 1; }),
            invalid("field 5 ('y') has rank 5"));
  EXPECT_EQ(broken(5, [](auto &f) { f.rank = -1; }),
            invalid("field 5 ('y') has rank -1"));
  EXPECT_EQ(broken(5, [](auto &f) { f.shape[0] = -3; }),
            invalid("field 5 ('y') has a negative dimension -3"));
  EXPECT_EQ(broken(3, [](auto &f) { f.name = "flow"; }),
            invalid("field 3 ('flow') repeats a name"));
}

TEST_F(BrokenDescriptorTest, Slots) {
  desc.slots = nullptr;
  EXPECT_TRUE(startsInvalid(wrap(), "15 slots at ")) << wrap();
  desc.slots = slots.data();

  auto broken = [&](int index,
                    const std::function<void(grade_slot_desc_t &)> &breakIt) {
    grade_slot_desc_t saved = slots[size_t(index)];
    breakIt(slots[size_t(index)]);
    std::string result = wrap();
    slots[size_t(index)] = saved;
    return result;
  };
  EXPECT_EQ(broken(kSlotUnused, [](auto &s) { s.slot_kind = 19; }),
            invalid("slot 11: unknown slot kind 19"));
  // Vector operands belong to states; a result is a global f64.
  EXPECT_EQ(
      broken(kSlotUnused, [](auto &s) { s.slot_kind = GRADE_SLOT_VECTOR_X; }),
      invalid("slot 11: vector operand of 'x0', which is not a state"));
  EXPECT_EQ(
      broken(kSlotUnused, [](auto &s) { s.slot_kind = GRADE_SLOT_RESULT; }),
      invalid("slot 11: a vector entry's result is a global f64"));
  // The adaptive slots belong to states: field 0 is an input.
  EXPECT_EQ(broken(kSlotUnused, [](auto &s) { s.slot_kind = GRADE_SLOT_RTOL; }),
            invalid("slot 11: slot kind 9 belongs to field index 0, which is "
                    "not a state"));
  EXPECT_EQ(broken(kSlotUnused, [](auto &s) { s.slot_kind = -1; }),
            invalid("slot 11: unknown slot kind -1"));
  // Graph arrays.
  EXPECT_EQ(broken(kSlotOffsets, [](auto &s) { s.index = 0; }),
            invalid("slot 0: unknown graph array 0"));
  EXPECT_EQ(broken(kSlotSources, [](auto &s) { s.index = 7; }),
            invalid("slot 1: unknown graph array 7"));
  EXPECT_EQ(broken(kSlotSources,
                   [](auto &s) {
                     s.index = GRADE_GRAPH_OUT_TARGETS;
                     s.dtype = GRADE_DTYPE_F64;
                   }),
            invalid("slot 1: graph array 5 has dtype 2"));
  EXPECT_EQ(broken(kSlotOffsets, [](auto &s) { s.dtype = GRADE_DTYPE_I32; }),
            invalid("slot 0: graph array 1 has dtype 3"));
  // Node numbers may be 32-bit (gradec --index-bits=32), nothing else.
  EXPECT_EQ(broken(kSlotSources, [](auto &s) { s.dtype = GRADE_DTYPE_F32; }),
            invalid("slot 1: graph array 2 has dtype 1"));
  EXPECT_EQ(broken(kSlotSources,
                   [](auto &s) {
                     s.index = GRADE_GRAPH_OUT_EDGES;
                     s.dtype = GRADE_DTYPE_I32;
                   }),
            invalid("slot 1: graph array 6 has dtype 3"));
  EXPECT_EQ(broken(kSlotWeights, [](auto &s) { s.dtype = GRADE_DTYPE_F64; }),
            invalid("slot 2: graph array 3 has dtype 2"));
  // Fields and derivatives.
  EXPECT_EQ(broken(kSlotX0, [](auto &s) { s.index = 6; }),
            invalid("slot 3: field index 6 out of range"));
  EXPECT_EQ(broken(kSlotDx, [](auto &s) { s.index = -1; }),
            invalid("slot 9: field index -1 out of range"));
  EXPECT_EQ(broken(kSlotDx, [](auto &s) { s.index = kFieldInflow; }),
            invalid("slot 9: derivative of 'inflow', which is not a state"));
  EXPECT_EQ(broken(kSlotY, [](auto &s) { s.shape[0] = 3; }),
            invalid("slot 8: its kind, dtype or shape differs from field 'y'"));
  EXPECT_EQ(broken(kSlotK, [](auto &s) { s.dtype = GRADE_DTYPE_F32; }),
            invalid("slot 4: its kind, dtype or shape differs from field 'k'"));
  EXPECT_EQ(broken(kSlotFlow, [](auto &s) { s.kind = GRADE_KIND_NODE; }),
            invalid("slot 5: its kind, dtype or shape differs from field 'flow'"));
  EXPECT_EQ(broken(kSlotDy, [](auto &s) { s.rank = 0; }),
            invalid("slot 10: its kind, dtype or shape differs from field 'y'"));
  EXPECT_EQ(broken(kSlotUnused, [&](auto &s) { s = slots[kSlotX0]; }),
            invalid("slot 11: field 'x0' has two slots"));
  EXPECT_EQ(broken(kSlotK, [](auto &s) { s.slot_kind = GRADE_SLOT_UNUSED; }),
            invalid("field 'k' has no slot"));
  // A field whose only slot is a derivative has none of its own.
  EXPECT_EQ(broken(kSlotY, [](auto &s) { s.slot_kind = GRADE_SLOT_TEMP; }),
            invalid("field 'y' has no slot"));
  // Temporaries.
  EXPECT_EQ(broken(kSlotXNext, [](auto &s) { s.kind = 0; }),
            invalid("slot 12: unknown kind 0"));
  EXPECT_EQ(broken(kSlotXNext, [](auto &s) { s.dtype = 0; }),
            invalid("slot 12: unknown dtype 0"));
  EXPECT_EQ(broken(kSlotKy, [](auto &s) { s.rank = 5; }),
            invalid("slot 14: rank 5"));
  EXPECT_EQ(broken(kSlotKy, [](auto &s) { s.shape[0] = -2; }),
            invalid("slot 14: a negative dimension"));
  // The step's status flags: a global i32[1], at most one.
  auto status = [](grade_slot_desc_t &s) {
    s = grade_slot_desc_t{};
    s.name = "status";
    s.slot_kind = GRADE_SLOT_STATUS;
    s.kind = GRADE_KIND_GLOBAL;
    s.dtype = GRADE_DTYPE_I32;
    s.rank = 1;
    s.shape[0] = 1;
  };
  EXPECT_EQ(broken(kSlotUnused, status), "ok");
  EXPECT_EQ(broken(kSlotUnused,
                   [&](auto &s) {
                     status(s);
                     s.dtype = GRADE_DTYPE_F64;
                   }),
            invalid("slot 11: a status slot must be a global i32[1]"));
  EXPECT_EQ(broken(kSlotUnused,
                   [&](auto &s) {
                     status(s);
                     s.shape[0] = 2;
                   }),
            invalid("slot 11: a status slot must be a global i32[1]"));
  EXPECT_EQ(broken(kSlotUnused,
                   [&](auto &s) {
                     status(s);
                     s.kind = GRADE_KIND_NODE;
                   }),
            invalid("slot 11: a status slot must be a global i32[1]"));
  {
    grade_slot_desc_t savedUnused = slots[kSlotUnused];
    grade_slot_desc_t savedNext = slots[kSlotXNext];
    status(slots[kSlotUnused]);
    status(slots[kSlotXNext]);
    EXPECT_EQ(wrap(), invalid("slot 12: a second status slot"));
    slots[kSlotUnused] = savedUnused;
    slots[kSlotXNext] = savedNext;
  }
}

TEST_F(BrokenDescriptorTest, Entries) {
  desc.entries = nullptr;
  EXPECT_EQ(wrap(), invalid("bad entry table"));
  desc.entries = entries.data();
  desc.num_entries = -1;
  EXPECT_EQ(wrap(), invalid("bad entry table"));
  // A missing entry point, whichever it is.
  desc.num_entries = 2;
  EXPECT_EQ(wrap(), invalid("no step entry point"));
  desc.num_entries = 0;
  EXPECT_EQ(wrap(), invalid("no init entry point"));
  desc.num_entries = 3;
  std::swap(entries[1], entries[2]);
  desc.num_entries = 2;
  EXPECT_EQ(wrap(), invalid("no rhs entry point"));
  desc.num_entries = 3;
  EXPECT_EQ(wrap(), "ok"); // Any order.
  std::swap(entries[1], entries[2]);

  auto broken = [&](int index,
                    const std::function<void(grade_entry_desc_t &)> &breakIt) {
    grade_entry_desc_t saved = entries[size_t(index)];
    breakIt(entries[size_t(index)]);
    std::string result = wrap();
    entries[size_t(index)] = saved;
    return result;
  };
  EXPECT_EQ(broken(0, [](auto &e) { e.entry = 0; }),
            invalid("entry 0 has unknown kind 0"));
  EXPECT_EQ(broken(1, [](auto &e) { e.entry = GRADE_ENTRY_KIND_MAX + 1; }),
            invalid("entry 1 has unknown kind 17"));
  // A vector entry needs the states' operands and tolerances.
  EXPECT_NE(broken(1, [](auto &e) { e.entry = GRADE_ENTRY_VECTOR_DOT; })
                .find("lacks a rtol slot, which the scheme needs"),
            std::string::npos);
  EXPECT_EQ(broken(1, [](auto &e) { e.fn = nullptr; }),
            invalid("entry 1 is NULL"));
  EXPECT_EQ(broken(0, [](auto &e) { e.name = nullptr; }),
            invalid("entry 0 is NULL"));
  EXPECT_EQ(broken(1, [](auto &e) { e.entry = GRADE_ENTRY_INIT; }),
            invalid("two 'rhs' entries"));
  // Swaps.
  EXPECT_EQ(broken(2, [](auto &e) { e.num_swaps = -1; }),
            invalid("entry 'step' has bad swaps"));
  EXPECT_EQ(broken(2, [](auto &e) { e.swaps = nullptr; }),
            invalid("entry 'step' has bad swaps"));
  swaps[1] = kMockNumSlots;
  EXPECT_EQ(wrap(), invalid("entry 'step' swaps slot 15"));
  swaps[1] = kSlotXNext;
  swaps[0] = -1;
  EXPECT_EQ(wrap(), invalid("entry 'step' swaps slot -1"));
  swaps[0] = kSlotX;
  EXPECT_EQ(wrap(), "ok");
}

// A swap exchanges two buffers, so both must be the session's own buffers
// of the same size: exchanging a node array with a global one, a graph
// array or a derivative (caller memory, NULL outside eval_rhs) would let the
// kernels write past the end of a buffer or through NULL.
TEST_F(BrokenDescriptorTest, SwapsExchangeOnlyBuffersOfOneShape) {
  for (int32_t other :
       {int32_t(kSlotY), int32_t(kSlotSources), int32_t(kSlotDx),
        int32_t(kSlotUnused), int32_t(kSlotFlow)}) {
    swaps[1] = other;
    std::string result = wrap();
    EXPECT_TRUE(startsInvalid(result, ""))
        << "swap of slot 7 with slot " << other << ": " << result;
  }
}

// The rhs entry writes every state's derivative into that state's
// DERIVATIVE slot, and eval_rhs hands out one tensor per state: a state
// without such a slot would read as a zero derivative, one with two would
// leave one of them unwritten.
TEST_F(BrokenDescriptorTest, EveryStateHasOneDerivativeSlot) {
  slots[kSlotDy].slot_kind = GRADE_SLOT_UNUSED;
  std::string result = wrap();
  EXPECT_TRUE(startsInvalid(result, "")) << "no derivative of 'y': " << result;
  slots[kSlotDy] = slots[kSlotDx];
  result = wrap();
  EXPECT_TRUE(startsInvalid(result, ""))
      << "two derivatives of 'x': " << result;
}

TEST_F(BrokenDescriptorTest, ThreadHooks) {
  desc.set_num_threads = nullptr;
  EXPECT_EQ(wrap(), invalid("no thread-pool hooks"));
  desc.set_num_threads = mock.descriptor()->set_num_threads;
  desc.num_processors = nullptr;
  EXPECT_EQ(wrap(), invalid("no thread-pool hooks"));
}

TEST_F(BrokenDescriptorTest, Tableau) {
  // Heun's tableau: a = [[0, 0], [1, 0]], b = [1/2, 1/2], c = [0, 1].
  a[1] = 0.5; // Above the diagonal: not even diagonally implicit.
  EXPECT_EQ(wrap(), invalid("the scheme's tableau is not lower-triangular"));
  a[1] = 0;
  a[3] = 0.5; // On the diagonal: implicit, which needs the jvp entry.
  EXPECT_EQ(wrap(), invalid("no jvp entry point (an implicit scheme solves "
                            "its stages with it)"));
  a[3] = 0;
  a[2] = NAN;
  EXPECT_EQ(wrap(), invalid("non-finite scheme coefficients"));
  a[2] = 1;
  b[1] = INFINITY;
  EXPECT_EQ(wrap(), invalid("non-finite scheme coefficients"));
  b[1] = 0.5;
  c[0] = NAN;
  EXPECT_EQ(wrap(), invalid("non-finite scheme coefficients"));
  c[0] = 0;
  EXPECT_EQ(wrap(), "ok");

  desc.scheme.stages = 0;
  EXPECT_EQ(wrap(), invalid("bad scheme tableau"));
  desc.scheme.stages = 2;
  desc.scheme.order = 0;
  EXPECT_EQ(wrap(), invalid("bad scheme tableau"));
  desc.scheme.order = 2;
  desc.scheme.name = nullptr;
  EXPECT_EQ(wrap(), invalid("bad scheme tableau"));
  desc.scheme.name = "heun";
  desc.scheme.a = nullptr;
  EXPECT_EQ(wrap(), invalid("bad scheme tableau"));
  desc.scheme.a = a.data();
  desc.scheme.c = nullptr;
  EXPECT_EQ(wrap(), invalid("bad scheme tableau"));
  desc.scheme.c = c.data();
  // One stage of the same arrays (a = [[0]]) is explicit Euler.
  desc.scheme.stages = 1;
  desc.scheme.order = 1;
  EXPECT_EQ(wrap(), "ok");
}

TEST_F(BrokenDescriptorTest, ImexTableau) {
  // Heun's tableau with an explicit tableau beside it: an IMEX scheme needs
  // an implicit one, and then its parts' entry points.
  std::vector<double> ea = {0, 0, 1, 0}, eb = {0.5, 0.5};
  desc.explicit_a = ea.data();
  EXPECT_EQ(wrap(), invalid("half an explicit tableau"));
  desc.explicit_b = eb.data();
  EXPECT_EQ(wrap(), invalid("an IMEX tableau on a scheme that is not a "
                            "fixed-step implicit one"));
  a[3] = 0.5; // implicit now
  EXPECT_EQ(wrap(), invalid("no explicit_rhs entry point (an IMEX scheme "
                            "steps with it)"));
  ea[3] = 1; // on the diagonal
  EXPECT_EQ(wrap(), invalid("the explicit tableau is not explicit"));
  ea[3] = 0;
  eb[0] = NAN;
  EXPECT_EQ(wrap(), invalid("non-finite explicit weights"));
}

// Found by fuzz-descriptor: a shape whose byte count overflows was accepted,
// and the session multiplied it out in int64 (undefined behaviour, a
// wrapped size). Such a shape is rejected when the descriptor is checked;
// a slot that fits per row but not on the bound graph fails to bind with
// an out-of-memory status.
TEST_F(BrokenDescriptorTest, ShapesWhoseSizeOverflows) {
  grade_slot_desc_t &ky = slots[14]; // a global f64 temporary of shape [2]
  ASSERT_STREQ(ky.name, "ky");
  ky.rank = 2;
  ky.shape[0] = ky.shape[1] = int64_t(1) << 41;
  EXPECT_EQ(wrap(), invalid("slot 14: shape [2199023255552, 2199023255552] "
                            "of f64 is too large (2^63 bytes or more)"));
  ky.rank = 1;
  ky.shape[0] = int64_t(1) << 60; // 2^63 bytes: one too many.
  EXPECT_EQ(wrap(), invalid("slot 14: shape [1152921504606846976] of f64 is "
                            "too large (2^63 bytes or more)"));
  ky.shape[0] = 2;
  // y is a global f32 state of shape [2]; its slots repeat the field's shape.
  ASSERT_STREQ(fields[5].name, "y");
  fields[5].shape[0] = INT64_MAX;
  EXPECT_EQ(wrap(), invalid("field 5 ('y'): shape [9223372036854775807] of "
                            "f32 is too large (2^63 bytes or more)"));
  fields[5].shape[0] = 2;
  EXPECT_EQ(wrap(), "ok");

  // 2^59 doubles per node fit in a row, not on a graph of 16 nodes (whose
  // 16 * 2^59 values overflowed int64 in the session).
  grade_slot_desc_t &k1 = slots[13]; // a node f64 temporary
  ASSERT_STREQ(k1.name, "k1");
  k1.rank = 1;
  k1.shape[0] = int64_t(1) << 59;
  grade_library_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_library_wrap(&desc, &raw)), "ok");
  LibraryPtr library(raw);
  grade_session_t *session = nullptr;
  ASSERT_EQ(statusString(grade_session_create(library.get(), &session)), "ok");
  std::unique_ptr<grade_session_t, void (*)(grade_session_t *)> owner(
      session, grade_session_free);
  // (Graphs whose size fits but exceeds memory would ask the allocator;
  // ASan aborts on such requests in the sanitized suite.)
  for (const char *spec : {"path:16", "path:100"}) {
    grade_graph_t *graph = nullptr;
    ASSERT_EQ(statusString(grade_graph_generate(spec, &graph)), "ok");
    GraphPtr graphOwner(graph);
    std::string status = statusString(grade_session_bind_graph(session, graph));
    EXPECT_NE(status.find("model 'decay': out of memory for 'k1' on a graph "
                          "of "),
              std::string::npos)
        << spec << ": " << status;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Stability limits of explicit schemes
//===----------------------------------------------------------------------===//

namespace {

double stabilityLimit(std::vector<double> a, std::vector<double> b) {
  std::vector<double> c(b.size(), 0.0);
  grade_scheme_desc_t scheme = {"test", 1, int32_t(b.size()), a.data(),
                                b.data(), c.data()};
  return grade_scheme_stability_limit(&scheme);
}

} // namespace

// References: for a p-stage scheme of order p <= 4, R(z) is the Taylor
// polynomial of exp(z) of degree p, so the limit is 2 for p = 1, 2 (R(-2) =
// -1 for p = 1, +1 for p = 2), and the real root of s^3 - 3s^2 + 6s - 12
// (p = 3: R(-s) = -1) or of s^3 - 4s^2 + 12s - 24 (p = 4: R(-s) = 1),
// computed with numpy.roots; the function gives six decimals, rounded down.
TEST(SchemeStabilityTest, LimitsOnTheNegativeRealAxis) {
  EXPECT_EQ(stabilityLimit({0}, {1}), 2.0);                 // euler
  EXPECT_EQ(stabilityLimit({0, 0, 0.5, 0}, {0, 1}), 2.0);   // midpoint
  EXPECT_EQ(stabilityLimit({0, 0, 1, 0}, {0.5, 0.5}), 2.0); // heun
  EXPECT_NEAR(stabilityLimit({0, 0, 0, 1, 0, 0, 0.25, 0.25, 0},
                             {1.0 / 6, 1.0 / 6, 2.0 / 3}),
              2.5127453266183255, 1e-6); // ssprk3
  EXPECT_NEAR(stabilityLimit({0, 0, 0, 0.5, 0, 0, -1, 2, 0},
                             {1.0 / 6, 2.0 / 3, 1.0 / 6}),
              2.5127453266183255, 1e-6); // kutta3
  EXPECT_NEAR(stabilityLimit({0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1, 0},
                             {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}),
              2.7852935634052853, 1e-6); // rk4
  // Not an explicit tableau, a coefficient that is not a number, no
  // tableau: no limit.
  EXPECT_TRUE(std::isnan(stabilityLimit({0.5}, {1})));
  EXPECT_TRUE(std::isnan(stabilityLimit({0}, {NAN})));
  EXPECT_TRUE(std::isnan(grade_scheme_stability_limit(nullptr)));
}
