// An ordinary shared library: no plugin symbols at all.
extern "C" int mlq_fake_add(int a, int b) {
  return a + b;
}
