#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  // Tests must not depend on the machine's git identity or config.
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_AUTHOR_NAME", "Test", 1);
  setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
  setenv("GIT_COMMITTER_NAME", "Test", 1);
  setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
  unsetenv("FLOWREPO_USER");
  unsetenv("FLOWREPO_WORKSPACE");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
