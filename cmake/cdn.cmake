# One convention for every library folder: all *.cpp in the folder form `cdn_<name>`,
# headers are included as "common/<name>/x.h" from the project root.
function(cdn_library name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT srcs)  # a header-only or not-yet-written library
    add_library(cdn_${name} INTERFACE)
    target_include_directories(cdn_${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(cdn_${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(cdn_${name} STATIC ${srcs})
  target_include_directories(cdn_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(cdn_${name} PRIVATE ${CDN_WARNINGS})
  target_link_libraries(cdn_${name} PUBLIC ${ARG_DEPS})
endfunction()

function(cdn_program name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CDN_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
