# mlq_add_plugin(<task> SOURCES ... [OUTPUT_DIR dir]): builds libmlq_<task>.so into the plugin
# folder (default: <build>/plugins) and installs it into <prefix>/lib/mlq/plugins, where an
# installed runner of the same prefix finds it.
function(mlq_add_plugin name)
  cmake_parse_arguments(P "" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${MLQ_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(mlq_${name} MODULE ${P_SOURCES})
  target_link_libraries(mlq_${name} PRIVATE mlq::train)
  set_target_properties(mlq_${name} PROPERTIES
    PREFIX "lib" OUTPUT_NAME "mlq_${name}"
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR}
    CXX_VISIBILITY_PRESET hidden
    INSTALL_RPATH "$ORIGIN/../..")
  install(TARGETS mlq_${name} LIBRARY DESTINATION lib/mlq/plugins)
endfunction()
