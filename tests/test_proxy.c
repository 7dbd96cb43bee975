/* placeholder test, being written */
#include "testutil.h"
static void test_placeholder(void) { CU_ASSERT(1); }
static const test_case TESTS[] = {{"placeholder", test_placeholder}, {NULL, NULL}};
SPEX_TEST_MAIN("proxy")
