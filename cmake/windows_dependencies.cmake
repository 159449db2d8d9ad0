# The libraries on Windows, as the same targets the Linux build uses. Two ways:
# - a Windows developer's MSVC build (CMakePresets.json, vcpkg.json): vcpkg's packages;
# - the check on Debian (cmake/mingw-w64.cmake, RECD_HOST_HEADERS): the host's header-only
#   libraries seen through a directory of links (the host's /usr/include as a whole would
#   bring glibc's headers in), spdlog and fmt in their header-only form, and FFmpeg's headers
#   only: what needs FFmpeg is compiled, not linked (an OBJECT library: recd_windows_capture).
add_compile_definitions(_WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX)
if(RECD_HOST_HEADERS)
    set(staged ${CMAKE_BINARY_DIR}/host-headers)
    file(MAKE_DIRECTORY ${staged})
    foreach(dir boost nlohmann spdlog fmt toml++ CLI catch2)
        file(CREATE_LINK /usr/include/${dir} ${staged}/${dir} SYMBOLIC)
    endforeach()
    # Debian puts FFmpeg's headers under the host's multiarch directory.
    set(RECD_HOST_FFMPEG_INCLUDE /usr/include/x86_64-linux-gnu CACHE PATH "The host's FFmpeg headers")
    foreach(dir libavutil libavcodec libavformat libswscale libswresample)
        file(CREATE_LINK ${RECD_HOST_FFMPEG_INCLUDE}/${dir} ${staged}/${dir} SYMBOLIC)
    endforeach()
    foreach(target Boost::headers nlohmann_json::nlohmann_json tomlplusplus::tomlplusplus
            CLI11::CLI11 Catch2::Catch2 spdlog::spdlog recd_ffmpeg)
        add_library(${target} INTERFACE IMPORTED)
        set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${staged}
                                                   INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${staged})
    endforeach()
    set_target_properties(spdlog::spdlog PROPERTIES
        INTERFACE_COMPILE_DEFINITIONS "SPDLOG_HEADER_ONLY;FMT_HEADER_ONLY")
    # The issue's bar for code that cannot run here: it compiles without a warning.
    add_compile_options(-Werror)
else()
    find_package(Boost 1.74 REQUIRED)
    find_package(spdlog CONFIG REQUIRED)
    find_package(nlohmann_json CONFIG REQUIRED)
    find_package(tomlplusplus CONFIG REQUIRED)
    find_package(CLI11 CONFIG REQUIRED)
    if(RECD_BUILD_TESTS)
        find_package(Catch2 2 CONFIG REQUIRED)  # 2.13; vcpkg's catch2 port is 3 (README)
    endif()
    find_package(FFMPEG REQUIRED)  # vcpkg's wrapper: FFMPEG_INCLUDE_DIRS, FFMPEG_LIBRARIES
    add_library(recd_ffmpeg INTERFACE)
    target_include_directories(recd_ffmpeg INTERFACE ${FFMPEG_INCLUDE_DIRS})
    target_link_libraries(recd_ffmpeg INTERFACE ${FFMPEG_LIBRARIES})
endif()
find_package(Threads REQUIRED)
