/* show.h -- `spex show`: a ranked table of a result file's interactions. */
#ifndef SPEX_SHOW_H
#define SPEX_SHOW_H

#include <stdio.h>

#include "spex/error.h"

/* Local.  Prints the file's summary and its top `top` Fourier terms (all
 * when top <= 0): rank, order, features (names when known), coefficient. */
spex_status spex_show(const char *path, int top, FILE *out, spex_error *err);

#endif
