/* placeholder until the kernel half lands */
int vdsokit_placeholder(void);
int vdsokit_placeholder(void) { return 0; }
