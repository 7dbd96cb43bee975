/* convert.c -- placeholder, being written. */
#include "spex/convert.h"
typedef int spex_convert_placeholder;
