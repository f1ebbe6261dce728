# -*- Python -*-
# Runs every GoogleTest binary under test/Unit as lit tests, one per gtest case.
import lit.formats

config.name = "grade-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.suffixes = []
config.test_source_root = config.grade_unit_binary_dir
config.test_exec_root = config.grade_unit_binary_dir
