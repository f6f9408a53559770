// liblzf, found through pkg-config "liblzf" (Debian: liblzf-dev adds -I/usr/include/liblzf).
#ifndef CLZF_SHIM_H
#define CLZF_SHIM_H
#include <lzf.h>
#endif
