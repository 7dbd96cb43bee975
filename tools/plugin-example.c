/* plugin-example.c -- placeholder, being written. */
int spex_plugin_example_placeholder(void);
int spex_plugin_example_placeholder(void) { return 0; }
