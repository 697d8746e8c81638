/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The GPU checkers' one way to call the CUDA runtime: a failing call names
 * its file, line and error, and ends the test (exit 1).
 */
#ifndef OVA_TESTS_GPU_CUDA_CHECK_H
#define OVA_TESTS_GPU_CUDA_CHECK_H

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#define CK(call)                                                                                \
  do {                                                                                          \
    cudaError_t e_ = (call);                                                                    \
    if (e_ != cudaSuccess) {                                                                    \
      fprintf (stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString (e_));  \
      exit (1);                                                                                 \
    }                                                                                           \
  } while (0)

#endif
