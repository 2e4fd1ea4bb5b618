# Included at the end of every project() call of llama.cpp's CMake build (CMAKE_PROJECT_INCLUDE, set in
# .cargo/config.toml and forwarded by llama-cpp-sys-2's build script).
#
# No AMX on x86-64: -march=native turns on AMX on CPUs that have it (Intel Sapphire Rapids and later), and
# ggml's AMX matrix kernels then crash with SIGILL at their first tile load. ggml builds its tile
# configuration on the stack and the compiler drops the row and column stores before `ldtilecfg` (seen with
# GCC 12.2: `objdump -d libggml-cpu.a` shows the struct zeroed, palette set, nothing else), so every tile is
# left unconfigured. Reported upstream as llama.cpp PR #26954 (open). Quantised models (Q4_0, Q4_1, Q8_0, …)
# take that path; F32/F16 do not. AVX-512 and VNNI stay on.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x86)$")
  foreach(lang C CXX)
    string(APPEND CMAKE_${lang}_FLAGS_RELEASE " -mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
  endforeach()
endif()
