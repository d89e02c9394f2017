# The node-gyp build of the same addon that CMakeLists.txt builds with cmake-js (the primary
# build). Sources, defines and flags mirror CMakeLists.txt; libtorch comes from the same finder.
# scripts/build-gyp.mjs runs it in a separate folder so the two builds never overwrite each other.
{
  "targets": [
    {
      "target_name": "das_torch",
      "sources": ["<!@(node scripts/list-native-sources.mjs)"],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/find-libtorch.mjs --include-dirs)",
        "<!@(node scripts/find-c10d.mjs --include-dirs)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NDEBUG",
        "DAS_BUILD_SYSTEM=\"node-gyp\"",
        "<!(node scripts/find-libtorch.mjs --source-define)",
        "<!(node scripts/find-libtorch.mjs --cmake-dir-define)",
        "<!@(node scripts/find-libtorch.mjs --defines)",
        "<!@(node scripts/find-c10d.mjs --defines)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14", "-std=gnu++1y"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": [
        "-L<!(node scripts/find-libtorch.mjs --lib-dir)",
        "-Wl,-rpath,<!(node scripts/find-libtorch.mjs --lib-dir)",
        "-Wl,--no-as-needed",
        "<!@(node scripts/find-libtorch.mjs --libs)"
      ]
    }
  ]
}
