# -*- Python -*-
# Runs the GoogleTest unit tests, one lit test per test case.

import os

import lit.formats

config.name = "QUANT_OPT_UNIT"
config.suffixes = []
config.test_exec_root = os.path.join(config.quant_opt_obj_root, "test", "Unit")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
