# The kernel and gradient test classes (XCTest on Linux filters by Module.Class), run again on
# other instruction sets: under qemu's AVX2-only CPU by scripts/test, and on a machine without
# a toolchain by the bundle of scripts/bundle-kernel-tests.
kernel_suites=(KernelTests.GEMMReferenceTests KernelTests.GEMMEpilogueTests KernelTests.GEMMDeterminismTests
  KernelTests.GEMMPackedOperandTests KernelTests.GEMMFewRowsTests KernelTests.NonFiniteProbeTests
  KernelTests.ColumnSumsTests KernelTests.KernelSlowdownTests KernelTests.InstructionSetTests
  BackpropTests.GradientReferenceTests BackpropTests.GradientFiniteDifferenceTests)
