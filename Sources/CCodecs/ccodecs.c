/* What the three codec doors share. */
#include "ccodecs.h"

#include <stdlib.h>

void ccodec_free(void *buffer) { free(buffer); }
