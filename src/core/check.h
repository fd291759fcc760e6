// Invariant checks: a failure is a bug in Fathom, never a user error. Prints file:line and aborts.
#pragma once
#include <cstdio>
#include <cstdlib>

#define FATHOM_CHECK(cond)                                                               \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "FATHOM_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#define FATHOM_CHECK_MSG(cond, msg)                                                                  \
  do {                                                                                               \
    if (!(cond)) {                                                                                   \
      std::fprintf(stderr, "FATHOM_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, msg); \
      std::abort();                                                                                  \
    }                                                                                                \
  } while (0)
