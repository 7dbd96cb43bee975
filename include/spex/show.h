/* show.h -- `spex show`: a ranked table of a result file's interactions. */
#ifndef SPEX_SHOW_H
#define SPEX_SHOW_H

#include <stdio.h>

#include "spex/error.h"

/* Local.  Prints the file's summary and its top `top` terms (all when
 * top <= 0) of one output: index is NULL or "fourier" (the recovered
 * Fourier coefficients), "mobius", an interaction index ("sii", "stii",
 * "fsii", "banzhaf", "fbii") or a value ("shapley", "banzhaf-values").
 * Columns: rank, order, features (names when known), value. */
spex_status spex_show(const char *path, int top, const char *index, FILE *out, spex_error *err);

#endif
