/* spex.h -- public C API of libspex.
 *
 * Library users include this one header.  It pulls in the module headers
 * (the headers under include/spex/); each function there says whether it is collective on
 * the communicator it takes ("Collective on comm.") or purely local
 * ("Local.").  Status codes double as the spex program's exit codes.
 */
#ifndef SPEX_H
#define SPEX_H

#define SPEX_VERSION_STRING "0.1.0"

#include "spex/error.h"
#include "spex/log.h"
#include "spex/rng.h"
#include "spex/mask.h"
#include "spex/config.h"
#include "spex/spectrum.h"
#include "spex/oracle.h"
#include "spex/bch.h"
#include "spex/design.h"
#include "spex/wht.h"
#include "spex/eval.h"
#include "spex/peel.h"
#include "spex/result.h"
#include "spex/h5io.h"
#include "spex/run.h"
#include "spex/show.h"
#include "spex/convert.h"

#endif
