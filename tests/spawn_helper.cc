// An "application" for LifecycleTest.WorkersExitWhenTheApplicationIsKilled: spawns a
// worker, prints its pid, and waits to be killed.

#include <micromongo/micromongo.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto bridge = micromongo::WorkerBridge::Create({.data_dir = argv[1]});
  std::printf("%d %s\n", bridge->pid(), bridge->address().c_str());
  std::fflush(stdout);
  for (int i = 0; i < 600; ++i) sleep(1);  // bounded: never outlive a broken test by long
  return 0;
}
