# Install and export rules: headers, the ddim::ddim target, a package config that finds Eigen
# again, an architecture-independent version file, and a pkg-config file.
include(CMakePackageConfigHelpers)

set(DDIM_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/cmake/ddim" CACHE STRING
  "Where ddimConfig.cmake is installed, relative to the install prefix")

install(TARGETS ddim EXPORT ddimTargets)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/ddim" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT ddimTargets NAMESPACE ddim:: DESTINATION "${DDIM_CMAKE_INSTALL_DIR}")
export(EXPORT ddimTargets NAMESPACE ddim:: FILE "${PROJECT_BINARY_DIR}/ddimTargets.cmake")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/ddimConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/ddimConfig.cmake"
  INSTALL_DESTINATION "${DDIM_CMAKE_INSTALL_DIR}")
if(CMAKE_VERSION VERSION_LESS 3.14)
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/ddimConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion)
else()
  write_basic_package_version_file("${PROJECT_BINARY_DIR}/ddimConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
endif()
install(FILES
  "${PROJECT_BINARY_DIR}/ddimConfig.cmake"
  "${PROJECT_BINARY_DIR}/ddimConfigVersion.cmake"
  DESTINATION "${DDIM_CMAKE_INSTALL_DIR}")

# pkg-config for non-CMake builds: the include directory plus Eigen's own pkg-config module. The
# prefix is found relative to the .pc file itself, so `cmake --install --prefix <anywhere>` and
# relocated installs work.
file(RELATIVE_PATH DDIM_PC_PREFIX_FROM_PCDIR "/root/${CMAKE_INSTALL_DATADIR}/pkgconfig" "/root")
string(REGEX REPLACE "/$" "" DDIM_PC_PREFIX_FROM_PCDIR "${DDIM_PC_PREFIX_FROM_PCDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(DDIM_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(DDIM_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/ddim.pc.in" "${PROJECT_BINARY_DIR}/ddim.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/ddim.pc" DESTINATION "${CMAKE_INSTALL_DATADIR}/pkgconfig")
