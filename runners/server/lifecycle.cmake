# The lifecycle API's wire format: request bodies and queries in, response and error bodies
# out, with no HTTP and no runner. Kept apart from CMakeLists.txt so the server's other parts
# add their sources without touching this list.
target_sources(sandflow_server PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/apierror_p.h ${CMAKE_CURRENT_LIST_DIR}/apierror.cpp
    ${CMAKE_CURRENT_LIST_DIR}/jsonbody_p.h ${CMAKE_CURRENT_LIST_DIR}/jsonbody.cpp
    ${CMAKE_CURRENT_LIST_DIR}/labelrules_p.h ${CMAKE_CURRENT_LIST_DIR}/labelrules.cpp
    ${CMAKE_CURRENT_LIST_DIR}/resourcelimits_p.h ${CMAKE_CURRENT_LIST_DIR}/resourcelimits.cpp
    ${CMAKE_CURRENT_LIST_DIR}/wiretime_p.h ${CMAKE_CURRENT_LIST_DIR}/wiretime.cpp
    ${CMAKE_CURRENT_LIST_DIR}/lifecyclewire_p.h
    ${CMAKE_CURRENT_LIST_DIR}/createrequest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/lifecyclewire.cpp)
