/* convert.h -- placeholder, being written. */
#ifndef SPEX_CONVERT_H
#define SPEX_CONVERT_H
#endif
