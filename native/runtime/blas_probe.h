// Finds out which BLAS library libtorch really calls at run time (not what it was built against):
// on Debian the same libtorch binary may end up on reference BLAS (slow) or OpenBLAS (fast),
// depending on the libblas.so.3 alternative that is installed.
#pragma once

#include <string>

namespace das {

struct BlasProbe {
  std::string vendor;    // "openblas", "mkl", "blis", "flexiblas", "reference", "bundled" or "unknown"
  std::string library;   // resolved path of the shared object that provides sgemm_
  std::string detail;    // vendor build string (openblas_get_config, MKL version, ...), may be empty
  std::string threading; // "openmp", "pthreads", "sequential" or "" when unknown
  int threads = -1;      // the BLAS's own thread count, -1 when it does not say
};

BlasProbe ProbeBlas();

}  // namespace das
