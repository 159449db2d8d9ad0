# Toolchain for checking the Windows build on Debian (scripts/windows.sh): mingw-w64's GCC,
# and Wine to run what it builds (ctest runs the Windows tests through it). Libraries are the
# host's own headers (cmake/windows_dependencies.cmake): enough to compile every Windows source
# and to link what needs no FFmpeg.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
# The -posix flavour: std::thread and std::mutex need its winpthreads threading model.
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR wine)
set(RECD_HOST_HEADERS ON CACHE BOOL "Windows libraries from the Debian host's headers")
