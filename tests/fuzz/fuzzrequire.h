// What a fuzz target checks of the code under test: a broken promise ends the run as a crash
// does, so that libFuzzer keeps the input that broke it.
#pragma once

#include <cstdlib>

inline void require(bool condition)
{
    if (!condition)
        std::abort();
}
