//===- LibraryTest.cpp - Tests of library loading and JSON ------*- C++ -*-===//

#include "TestUtil.h"

#include <cmath>
#include <cstring>

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
  const grade_model_api_t *api = grade_library_api(library.get());
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->abi_version, GRADE_MODEL_ABI_VERSION);
  const grade_model_descriptor_t *desc =
      grade_library_descriptor(library.get());
  ASSERT_EQ(desc, api->descriptor);
  EXPECT_STREQ(desc->name, "decay");
  EXPECT_STREQ(desc->scheme, "euler");
  EXPECT_EQ(desc->scheme_order, 1);
  EXPECT_EQ(desc->dt, 0.1);
  ASSERT_EQ(desc->num_fields, 3);

  const grade_field_desc_t *k = grade_descriptor_find_field(desc, "k");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k, &desc->fields[1]);
  EXPECT_EQ(k->role, GRADE_ROLE_PARAM);
  EXPECT_EQ(k->kind, GRADE_KIND_GLOBAL);
  const grade_field_desc_t *x = grade_descriptor_find_field(desc, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->role, GRADE_ROLE_STATE);
  EXPECT_EQ(x->is_output, 1);
  EXPECT_EQ(grade_descriptor_find_field(desc, "y"), nullptr);
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

TEST(LibraryTest, MockModelAsJson) {
  grade_library_t *raw = nullptr;
  ASSERT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, &raw)),
            "ok");
  LibraryPtr library(raw);
  EXPECT_EQ(toJson(grade_library_descriptor(library.get())),
            "{\n"
            "  \"name\": \"decay\",\n"
            "  \"abi_version\": 1,\n"
            "  \"source\": \"test/Unit/Runtime/MockModel.c\",\n"
            "  \"scheme\": {\"name\": \"euler\", \"order\": 1, \"stages\": 1, "
            "\"t0\": 0, \"t1\": 1, \"dt\": 0.1},\n"
            "  \"graph\": {\"weighted\": false, \"weight_dtype\": null},\n"
            "  \"fields\": [\n"
            "    {\"name\": \"x0\", \"role\": \"input\", \"kind\": \"node\", "
            "\"dtype\": \"f64\", \"shape\": [], \"output\": false},\n"
            "    {\"name\": \"k\", \"role\": \"param\", \"kind\": \"global\", "
            "\"dtype\": \"f64\", \"shape\": [], \"output\": false},\n"
            "    {\"name\": \"x\", \"role\": \"state\", \"kind\": \"node\", "
            "\"dtype\": \"f64\", \"shape\": [], \"output\": true}\n"
            "  ]\n"
            "}");
}

TEST(LibraryTest, HeatDescriptorAsJson) {
  // The example of docs/runtime.md.
  const grade_field_desc_t fields[] = {
      {"x0", GRADE_ROLE_INPUT, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {}, 0, 0},
      {"x", GRADE_ROLE_STATE, GRADE_KIND_NODE, GRADE_DTYPE_F64, 0, {}, 1, 0},
  };
  grade_model_descriptor_t desc = {};
  desc.abi_version = GRADE_MODEL_ABI_VERSION;
  desc.struct_size = sizeof(desc);
  desc.name = "heat";
  desc.source = "examples/heat.grade";
  desc.scheme = "rk4";
  desc.scheme_order = 4;
  desc.scheme_stages = 4;
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
  "abi_version": 1,
  "source": "examples/heat.grade",
  "scheme": {"name": "rk4", "order": 4, "stages": 4, "t0": 0, "t1": 1, "dt": 0.01},
  "graph": {"weighted": true, "weight_dtype": "f64"},
  "fields": [
    {"name": "x0", "role": "input", "kind": "node", "dtype": "f64", "shape": [], "output": false},
    {"name": "x", "role": "state", "kind": "node", "dtype": "f64", "shape": [], "output": true}
  ]
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
  desc.scheme = "rk4";
  desc.t0 = -0.5;
  desc.t1 = INFINITY;
  desc.dt = 1e-7;
  desc.num_fields = 1;
  desc.fields = fields;
  EXPECT_EQ(toJson(&desc),
            "{\n"
            "  \"name\": \"a\\\"b\\\\c\\n\\t\\u0001\",\n"
            "  \"abi_version\": 1,\n"
            "  \"source\": null,\n"
            "  \"scheme\": {\"name\": \"rk4\", \"order\": 0, \"stages\": 0, "
            "\"t0\": -0.5, \"t1\": null, \"dt\": 1e-07},\n"
            "  \"graph\": {\"weighted\": false, \"weight_dtype\": null},\n"
            "  \"fields\": [\n"
            "    {\"name\": \"w\", \"role\": \"let\", \"kind\": \"edge\", "
            "\"dtype\": \"f32\", \"shape\": [3, 4], \"output\": false}\n"
            "  ]\n"
            "}");
  desc.num_fields = 0;
  std::string empty = toJson(&desc);
  EXPECT_NE(empty.find("\"fields\": []\n}"), std::string::npos) << empty;
  EXPECT_EQ(toJson(nullptr), "[invalid argument] descriptor is NULL");
  // Shortest round-trip forms.
  desc.t0 = 0.1 + 0.2;
  desc.t1 = 1e21;
  EXPECT_NE(toJson(&desc).find("\"t0\": 0.30000000000000004, \"t1\": 1e+21"),
            std::string::npos);
}

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
                ": not a grade model library (no 'grade_model_api' symbol)");
}

TEST(LibraryTest, WrongAbiVersion) {
  EXPECT_EQ(loadError(GRADE_MOCK_MODEL_ABI3_PATH),
            std::string("[ABI mismatch] ") + GRADE_MOCK_MODEL_ABI3_PATH +
                ": built for model ABI version 3, this runtime supports "
                "version 1; recompile it with this gradec");
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
  EXPECT_EQ(statusString(grade_library_load(GRADE_MOCK_MODEL_PATH, nullptr)),
            "[invalid argument] output pointer is NULL");
  EXPECT_EQ(grade_library_descriptor(nullptr), nullptr);
  EXPECT_EQ(grade_library_api(nullptr), nullptr);
}

} // namespace
