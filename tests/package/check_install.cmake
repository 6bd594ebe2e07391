# Checks the layout of a ddim install prefix (run with -DPREFIX=<prefix>).
foreach(path include/ddim/ddim.hpp include/ddim/config.hpp include/ddim/detail/validate.hpp
             share/cmake/ddim/ddimConfig.cmake share/cmake/ddim/ddimConfigVersion.cmake
             share/cmake/ddim/ddimTargets.cmake share/pkgconfig/ddim.pc)
  if(NOT EXISTS "${PREFIX}/${path}")
    message(FATAL_ERROR "the install is missing ${path}")
  endif()
endforeach()
file(READ "${PREFIX}/share/pkgconfig/ddim.pc" pc)
if(NOT pc MATCHES "Requires: eigen3" OR NOT pc MATCHES "Cflags: -I")
  message(FATAL_ERROR "ddim.pc lacks its Eigen requirement or include flags:\n${pc}")
endif()
file(READ "${PREFIX}/share/cmake/ddim/ddimConfigVersion.cmake" version_file)
# header-only: the version file must skip CMake's 32/64-bit comparison (ARCH_INDEPENDENT)
if(NOT version_file MATCHES "if\\(\"TRUE\"\\)[ \n]+return\\(\\)")
  message(FATAL_ERROR "the version file compares pointer sizes; a header-only package is architecture independent")
endif()
message(STATUS "ddim install layout ok")
